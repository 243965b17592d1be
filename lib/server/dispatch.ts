/**
 * Every request's first stop (SPEC §4): read the path once, find the ingress, then hand
 * `/oauth2/*` and app pages to Next, and upstream routes to the streaming forwarder.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { GatehouseError, type ErrorCode } from '../errors';
import type { UpstreamRoute } from '../config';
import type { Gatehouse } from '../gatehouse';
import { unauthenticatedBody } from '../gate';
import { gateRequest, type GateInput } from '../request-gate';
import { firstCookies, isOwnCookie } from '../http/cookies';
import { createContext } from '../http/context';
import { matchIngress, type IngressMatch } from '../http/ingress';
import { INGRESS_HEADER } from '../http/internal-headers';
import { isNavigation } from '../http/navigation';
import { correlationId } from '../http/request-id';
import { dropSegments, readRequestPath, segmentCount, type RequestPath } from '../http/request-path';
import { errorResponse, finish } from '../http/responses';
import { log, withCorrelationId } from '../log';
import { corsOrigin, isForwardedToServer, isSessionApi, serverUrl } from '../sso';
import { traceRequest, traceUpgrade } from '../tracing-spans';
import { requestFraming } from '../upstream/framing';
import { forward, forwardUpgrade, rejectUpgrade } from '../upstream/forward';
import { matchUpstream, upstreamRequestHeaders, upstreamUrl } from '../upstream/plan';
import type { BrowserResponseOptions } from '../upstream/response-headers';
import { guardNextBody } from './next-body';
import { enforceNextHeaders } from './next-headers';
import { oauth2Route, whenDone } from './request-done';
import { decisionHeaders, endLingering, headerReader, sendResponse } from './node-http';
import { isOAuth2Path as isOAuth2, ROUTES } from '../routes';

export type NextHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;
export type NextUpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;

interface Routed {
  path: RequestPath;
  search: string;
  ingress: IngressMatch;
  /** Below the ingress path. */
  innerRaw: string;
  innerDecoded: string;
  requestId: string;
}

/**
 * Headers a client could send to steer Next.js: its internal ones (`x-middleware-subrequest` once
 * let a request skip the interception file entirely) and forwarding headers Next would build URLs
 * from. Gatehouse builds public URLs from INGRESS only.
 */
const UNTRUSTED_FOR_NEXT = /^(x-middleware-|x-nextjs-|x-invoke-|x-gatehouse-|x-forwarded-|forwarded$|x-now-|x-vercel-)/;

/** Largest body handed to Next (route handlers, server actions): Next's own server-action default. */
export const NEXT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Most cookies handed to Next: what browsers keep for one site at most (Chrome: 180). Next builds
 * its cookie jar one cookie at a time, rewriting it each time, in time quadratic in the count.
 */
const MAX_COOKIES_FOR_NEXT = 180;


function route(gh: Gatehouse, req: IncomingMessage): Routed | { fail: ErrorCode; requestId: string } {
  const requestId = correlationId(req.headers['x-request-id'] as string | undefined);
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = readRequestPath(q < 0 ? url : url.slice(0, q));
  if (!path) return { fail: 'bad_request', requestId };
  const ingress = matchIngress(gh.config.ingresses, path.decoded, req.headers.host);
  if (!ingress) return { fail: 'not_found', requestId };
  const depth = segmentCount(ingress.basePath);
  return { path, search: q < 0 ? '' : url.slice(q), ingress, innerRaw: dropSegments(path.raw, depth), innerDecoded: ingress.innerPath, requestId };
}

/** The upstream route a request goes to, if any. */
const upstreamOf = (gh: Gatehouse, r: ReturnType<typeof route>) => ('fail' in r || isOAuth2(r.innerDecoded) ? null : matchUpstream(gh.config.upstreams, r.innerDecoded));

/** The bounded `route` label of a request (lib/server/request-done.ts). */
function routeLabel(gh: Gatehouse, r: ReturnType<typeof route>): string {
  if ('fail' in r) return 'invalid';
  if (isOAuth2(r.innerDecoded)) return oauth2Route(r.innerDecoded);
  return upstreamOf(gh, r)?.prefix ?? 'app';
}

async function fail(gh: Gatehouse, req: IncomingMessage, res: ServerResponse, code: ErrorCode, requestId: string, ingressIndex = 0, cause?: unknown) {
  const headers = decisionHeaders(req.headers);
  headers.set('x-request-id', requestId);
  const innerPath = (req.url ?? '/').split('?', 1)[0].slice(0, 256);
  const ctx = createContext(gh.config, { method: req.method ?? 'GET', innerPath, search: '', headers, ingressIndex });
  const response = errorResponse(gh.config, ctx, new GatehouseError(code, { cause }), { html: ctx.navigation });
  if (code === 'bad_request' || code === 'not_found') response.headers.delete('set-cookie');
  await sendResponse(res, finish(response, ctx));
}

export function dispatch(gh: Gatehouse, req: IncomingMessage, res: ServerResponse, next: NextHandler): Promise<void> {
  const routed = route(gh, req);
  return withCorrelationId(routed.requestId, () => traceRequest(req, res, { route: () => routeLabel(gh, routed), correlationId: routed.requestId }, () => {
    whenDone(req, res, () => ({ route: routeLabel(gh, routed), upstream: upstreamOf(gh, routed)?.prefix }), gh.config.accessLog);
    return dispatchRouted(gh, req, res, routed, next);
  }));
}

async function dispatchRouted(gh: Gatehouse, req: IncomingMessage, res: ServerResponse, routed: ReturnType<typeof route>, next: NextHandler): Promise<void> {
  if ('fail' in routed) return fail(gh, req, res, routed.fail, routed.requestId);
  const { ingress, innerRaw, innerDecoded, search, requestId } = routed;
  res.setHeader('X-Request-Id', requestId);

  const sso = gh.config.sso;
  if (sso?.mode === 'proxy' && isForwardedToServer(innerDecoded)) return forwardToSsoServer(gh, req, res, routed, sso.serverUrl);
  // The IdP calls back the server only: a proxy has no login or logout transaction of its own.
  if (sso?.mode === 'proxy' && (innerDecoded === ROUTES.callback || innerDecoded === ROUTES.logoutCallback)) return fail(gh, req, res, 'not_found', requestId, ingress.index);
  if (sso?.mode === 'server' && isSessionApi(innerDecoded)) {
    if (answerCors(gh, req, res)) return;
  }

  const upstream = upstreamOf(gh, routed);
  if (upstream) return serveUpstream(gh, req, res, routed, upstream);

  // Next buffers bodies before anything of ours runs: refuse declared giants up front, and bound
  // the size and arrival time of the rest (lib/server/next-body.ts).
  const framing = requestFraming(req.headers);
  if (framing.kind === 'length' && framing.length > NEXT_MAX_BODY_BYTES) return fail(gh, req, res, 'payload_too_large', requestId, ingress.index);
  guardNextBody(req, framing, {
    maxBytes: NEXT_MAX_BODY_BYTES,
    timeoutMs: gh.config.upstreamTimeoutMs,
    onViolation: (code) => {
      log.warn('request body refused', { correlation_id: requestId, error_code: code });
      res.shouldKeepAlive = false;
      if (res.headersSent) return void req.socket.destroy();
      void fail(gh, req, res, code, requestId, ingress.index).finally(() => res.once('finish', () => req.socket.destroy()));
    },
  });
  // Next sees the path below the ingress and trusted internal headers only.
  for (const name of Object.keys(req.headers)) {
    if (UNTRUSTED_FOR_NEXT.test(name)) delete req.headers[name];
  }
  if (req.headers.cookie) req.headers.cookie = firstCookies(req.headers.cookie, MAX_COOKIES_FOR_NEXT);
  req.url = innerRaw + search;
  req.headers['x-request-id'] = requestId;
  req.headers[INGRESS_HEADER] = String(ingress.index);
  const { cookiePrefix, sso: ssoConfig } = gh.config;
  enforceNextHeaders(res, { oauth2: isOAuth2(innerDecoded), isOwnCookie: (name) => isOwnCookie(cookiePrefix, name, ssoConfig?.sessionCookieName) });
  await next(req, res);
}

/**
 * SSO server, `/oauth2/session*` (SPEC §8): CORS with credentials for origins on the SSO domain,
 * nothing for others. Answers a preflight itself (returns true); otherwise only sets headers.
 */
function answerCors(gh: Gatehouse, req: IncomingMessage, res: ServerResponse): boolean {
  const origin = corsOrigin(gh.config, req.headers.origin);
  res.setHeader('Vary', 'Origin');
  if (origin) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
  }
  if (req.method !== 'OPTIONS') return false;
  req.resume();
  const headers: Record<string, string> = { 'Content-Length': '0', 'Cache-Control': 'no-store' };
  if (origin) {
    headers['Access-Control-Allow-Methods'] = 'GET, POST, OPTIONS';
    headers['Access-Control-Allow-Headers'] = 'Content-Type, X-Request-Id';
    headers['Access-Control-Max-Age'] = '600';
  }
  res.writeHead(204, headers);
  void endLingering(res);
  return true;
}

/**
 * SSO proxy (SPEC §8): the session API and the logout channels belong to the server, which owns
 * the session cookie: forwarded with the browser's cookies, answered with the server's headers.
 */
function forwardToSsoServer(gh: Gatehouse, req: IncomingMessage, res: ServerResponse, r: Routed, serverBase: URL) {
  const target = serverUrl(serverBase, r.innerRaw, r.search);
  const headers = upstreamRequestHeaders(req.headers, {
    accessToken: null,
    cookiePrefix: gh.config.cookiePrefix,
    requestId: r.requestId,
    ingress: r.ingress.ingress,
    remoteAddress: req.socket.remoteAddress,
    target,
  });
  delete headers.authorization;
  if (req.headers.cookie) headers.cookie = req.headers.cookie; // the server's own cookies, unfiltered
  forward(req, res, {
    target,
    headers,
    agents: gh.upstreamAgents,
    maxBodyBytes: NEXT_MAX_BODY_BYTES,
    timeoutMs: gh.config.upstreamTimeoutMs,
    // The server speaks for the session here: its cookies pass, its URLs are public already.
    response: { requestId: r.requestId, setCookies: [] },
    onFailure: (code, cause) => {
      log.warn('SSO server request failed', { correlation_id: r.requestId, error_code: code, error: cause as Error });
      void fail(gh, req, res, code, r.requestId, r.ingress.index, cause);
    },
  });
}

/** The request headers an upstream gets for this request (lib/upstream/plan.ts decides which). */
function headersForUpstream(gh: Gatehouse, req: IncomingMessage, r: Routed, accessToken: string | null, target: URL, upgrade = false) {
  return upstreamRequestHeaders(req.headers, {
    accessToken,
    cookiePrefix: gh.config.cookiePrefix,
    sessionCookieName: gh.config.sso?.sessionCookieName,
    requestId: r.requestId,
    ingress: r.ingress.ingress,
    remoteAddress: req.socket.remoteAddress,
    target,
    upgrade,
  });
}

/** What the gate needs to know of a routed request (lib/request-gate.ts decides). */
const gateInput = (req: IncomingMessage, r: Routed, navigation: boolean): GateInput => ({
  cookieHeader: req.headers.cookie,
  basePath: r.ingress.basePath,
  decodedPath: r.innerDecoded,
  returnTo: r.path.raw + r.search,
  navigation,
  upstream: true,
  now: Date.now(),
});

async function serveUpstream(gh: Gatehouse, req: IncomingMessage, res: ServerResponse, r: Routed, upstream: UpstreamRoute) {
  const { config } = gh;
  const gate = await gateRequest(gh, gateInput(req, r, isNavigation(req.method ?? 'GET', headerReader(req.headers))));
  if (gate.kind === 'login') {
    res.writeHead(302, { Location: gate.location, 'Content-Length': '0', 'Cache-Control': 'no-store', 'Set-Cookie': gate.setCookies });
    return endLingering(res);
  }
  if (gate.kind === 'unauthenticated') {
    req.resume();
    res.writeHead(401, { Location: gate.loginUrl, 'Content-Length': String(Buffer.byteLength(unauthenticatedBody(gate.loginUrl))), 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Set-Cookie': gate.setCookies });
    return endLingering(res, unauthenticatedBody(gate.loginUrl));
  }

  const target = upstreamUrl(upstream, r.innerRaw, r.search);
  forward(req, res, {
    target,
    headers: headersForUpstream(gh, req, r, gate.session?.tokens.accessToken ?? null, target),
    agents: gh.upstreamAgents,
    maxBodyBytes: config.upstreamMaxBody,
    timeoutMs: config.upstreamTimeoutMs,
    response: upstreamAnswer(gh, r, upstream, gate.setCookies),
    upstream: upstream.prefix,
    onFailure: (code, cause) => {
      log.warn('upstream request failed', { correlation_id: r.requestId, error_code: code, upstream: upstream.prefix, error: cause as Error });
      void fail(gh, req, res, code, r.requestId, r.ingress.index, cause);
    },
  });
}

/** How an upstream's answer is made safe for the browser (lib/upstream/response-headers.ts). */
const upstreamAnswer = (gh: Gatehouse, r: Routed, upstream: UpstreamRoute, setCookies: string[]): BrowserResponseOptions => ({
  requestId: r.requestId,
  setCookies,
  ownCookies: { prefix: gh.config.cookiePrefix, sessionName: gh.config.sso?.sessionCookieName },
  mapping: { ingress: r.ingress.ingress, routes: [upstream, ...gh.config.upstreams.filter((other) => other !== upstream)] },
});

/**
 * Upgrades (WebSocket) are handled here only: server.ts keeps Next's own upgrade listener off the
 * server. A handshake is a bodiless GET (RFC 6455 §4.1); one that carries a body is refused, since
 * those bytes would otherwise travel on as if the upstream had sent them or asked for them. Other
 * protocols than WebSocket are refused.
 */
export async function dispatchUpgrade(gh: Gatehouse, req: IncomingMessage, socket: Duplex, head: Buffer, next: NextUpgradeHandler): Promise<void> {
  socket.on('error', () => socket.destroy()); // a client reset must not become an unhandled error
  const routed = route(gh, req);
  return traceUpgrade(req, socket, { route: () => routeLabel(gh, routed), correlationId: routed.requestId }, () => upgradeRouted(gh, req, socket, head, next, routed));
}

async function upgradeRouted(gh: Gatehouse, req: IncomingMessage, socket: Duplex, head: Buffer, next: NextUpgradeHandler, routed: ReturnType<typeof route>): Promise<void> {
  const upstream = upstreamOf(gh, routed);
  if ('fail' in routed || !upstream) {
    if (!gh.config.production && !('fail' in routed)) return next(req, socket, head); // Next's dev HMR socket
    return rejectUpgrade(socket, 404, 'Not Found', routed.requestId);
  }
  if (requestFraming(req.headers).kind !== 'none') return rejectUpgrade(socket, 400, 'Bad Request', routed.requestId);
  // WebSocket only: an `h2c` upgrade would open an HTTP/2 tunnel to the upstream in which any path
  // and header travel past the gate and the header rules.
  if (String(req.headers.upgrade ?? '').trim().toLowerCase() !== 'websocket') return rejectUpgrade(socket, 400, 'Bad Request', routed.requestId);
  const { config } = gh;
  const gate = await gateRequest(gh, gateInput(req, routed, false));
  if (gate.kind !== 'pass') return rejectUpgrade(socket, 401, 'Unauthorized', routed.requestId);
  const target = upstreamUrl(upstream, routed.innerRaw, routed.search);
  forwardUpgrade(req, socket, head, {
    target,
    headers: headersForUpstream(gh, req, routed, gate.session?.tokens.accessToken ?? null, target, true),
    timeoutMs: config.upstreamTimeoutMs,
    // A 101 carries no cookie of ours: a refreshed cookie session is written on the next request.
    response: upstreamAnswer(gh, routed, upstream, []),
  });
}
