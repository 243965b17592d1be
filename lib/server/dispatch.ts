/**
 * Every request's first stop (SPEC §4): read the path once (lib/server/routing.ts), then the first
 * handler of the table below whose test matches serves it. Each handler lives in its own module;
 * errors the server answers itself go through one writer (lib/server/error-writer.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Gatehouse } from '../gatehouse';
import { withCorrelationId } from '../log';
import { ROUTES } from '../routes';
import { isForwardedToServer, isSessionApi } from '../sso';
import { traceRequest, traceUpgrade } from '../tracing-spans';
import { requestFraming } from '../upstream/framing';
import { rejectUpgrade } from '../upstream/forward';
import { answerPreflight, setCorsHeaders } from './cors';
import { writeError } from './error-writer';
import type { GatehouseResponse } from './gatehouse-response';
import { serveByNext, type NextHandler } from './next-app';
import { whenDone } from './request-done';
import { routeLabel, routeRequest, type Routed, type Unroutable } from './routing';
import { forwardToSsoServer } from './sso-forward';
import { serveUpstream, serveUpstreamUpgrade } from './upstream-route';

export type { NextHandler } from './next-app';
export type NextUpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;

interface Handler {
  /** For whoever reads the table; not used at run time. */
  name: string;
  matches(gh: Gatehouse, r: Routed, req: IncomingMessage): boolean;
  serve(gh: Gatehouse, req: IncomingMessage, res: GatehouseResponse, r: Routed, next: NextHandler): void | Promise<void>;
}

const HANDLERS: readonly Handler[] = [
  {
    name: 'SSO proxy: session API and logout channels belong to the server',
    matches: (gh, r) => gh.relyingParty === null && isForwardedToServer(r.innerDecoded),
    serve: (gh, req, res, r) => {
      if (gh.relyingParty === null) forwardToSsoServer(gh, req, res, r, gh.ssoServer);
    },
  },
  {
    // The IdP calls back the server only: a proxy has no login or logout transaction of its own.
    name: 'SSO proxy: no callbacks of its own',
    matches: (gh, r) => gh.relyingParty === null && (r.innerDecoded === ROUTES.callback || r.innerDecoded === ROUTES.logoutCallback),
    serve: (gh, req, res, r) => writeError(gh, req, res, 'not_found', { requestId: r.requestId, ingressIndex: r.ingress.index }),
  },
  {
    name: 'SSO server: CORS preflight of the session API',
    matches: (gh, r, req) => gh.config.sso?.mode === 'server' && isSessionApi(r.innerDecoded) && req.method === 'OPTIONS',
    serve: (gh, req, res) => answerPreflight(gh, req, res),
  },
  {
    name: 'upstream route: the gate, then the streaming proxy',
    matches: (_gh, r) => r.upstream !== null,
    serve: (gh, req, res, r) => serveUpstream(gh, req, res, r, r.upstream!),
  },
  {
    name: 'everything else: Next.js (/oauth2/* route handlers, pages gated by proxy.ts)',
    matches: () => true,
    serve: (gh, req, res, r, next) => {
      if (gh.config.sso?.mode === 'server' && isSessionApi(r.innerDecoded)) setCorsHeaders(gh, req, res);
      return serveByNext(gh, req, res, r, next);
    },
  },
];

export function dispatch(gh: Gatehouse, req: IncomingMessage, res: GatehouseResponse, next: NextHandler): Promise<void> {
  const routed = routeRequest(gh, req);
  return withCorrelationId(routed.requestId, () => traceRequest(req, res, { route: () => routeLabel(routed), correlationId: routed.requestId }, async () => {
    whenDone(req, res, () => ({ route: routeLabel(routed), upstream: 'fail' in routed ? undefined : routed.upstream?.prefix }), gh.config.accessLog);
    if ('fail' in routed) return writeError(gh, req, res, routed.fail, { requestId: routed.requestId });
    res.setHeader('X-Request-Id', routed.requestId);
    const handler = HANDLERS.find((h) => h.matches(gh, routed, req))!;
    await handler.serve(gh, req, res, routed, next);
  }));
}

/**
 * Upgrades (WebSocket) are handled here only: server.ts keeps Next's own upgrade listener off the
 * server. Refused: anything but an upstream route (in development Next's HMR socket goes to Next),
 * a handshake that carries a body (those bytes would otherwise travel on as if the upstream had
 * sent them or asked for them), and protocols other than WebSocket (an `h2c` upgrade would open an
 * HTTP/2 tunnel to the upstream in which any path and header travel past the gate).
 */
export async function dispatchUpgrade(gh: Gatehouse, req: IncomingMessage, socket: Duplex, head: Buffer, next: NextUpgradeHandler): Promise<void> {
  socket.on('error', () => socket.destroy()); // a client reset must not become an unhandled error
  const routed = routeRequest(gh, req);
  return traceUpgrade(req, socket, { route: () => routeLabel(routed), correlationId: routed.requestId }, () => upgradeRouted(gh, req, socket, head, next, routed));
}

function upgradeRouted(gh: Gatehouse, req: IncomingMessage, socket: Duplex, head: Buffer, next: NextUpgradeHandler, routed: Routed | Unroutable): Promise<void> | void {
  if ('fail' in routed || !routed.upstream) {
    if (!gh.config.production && !('fail' in routed)) return next(req, socket, head); // Next's dev HMR socket
    return rejectUpgrade(socket, 404, 'Not Found', routed.requestId);
  }
  if (requestFraming(req.headers).kind !== 'none') return rejectUpgrade(socket, 400, 'Bad Request', routed.requestId);
  if (String(req.headers.upgrade ?? '').trim().toLowerCase() !== 'websocket') return rejectUpgrade(socket, 400, 'Bad Request', routed.requestId);
  return serveUpstreamUpgrade(gh, req, socket, head, routed, routed.upstream);
}
