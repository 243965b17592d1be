/**
 * Upstream routes (SPEC §4 items 3–6): the gate decides (lib/request-gate.ts), this writes its
 * answer or forwards the request with the session's token through the streaming proxy
 * (lib/upstream/forward.ts), following the pure forwarding decision (lib/upstream/plan.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpstreamRoute } from '../config';
import type { Gatehouse } from '../gatehouse';
import { unauthenticatedBody } from '../gate';
import { setCookieHeaders, type SetCookie } from '../http/cookies';
import { isNavigation } from '../http/navigation';
import { log } from '../log';
import { gateRequest, type GateAnswer, type GateInput } from '../request-gate';
import { forward, forwardUpgrade, rejectUpgrade } from '../upstream/forward';
import { identityOf, upstreamRequestHeaders, upstreamUrl } from '../upstream/plan';
import type { BrowserResponseOptions } from '../upstream/response-headers';
import { writeError } from './error-writer';
import { endLingering, headerReader } from './node-http';
import type { Routed } from './routing';

/** What the gate needs to know of a routed request. */
const gateInput = (req: IncomingMessage, r: Routed, navigation: boolean): GateInput => ({
  cookieHeader: req.headers.cookie,
  basePath: r.ingress.basePath,
  decodedPath: r.innerDecoded,
  returnTo: r.path.raw + r.search,
  navigation,
  upstream: true,
  now: Date.now(),
});

/** The request headers an upstream gets for this request (lib/upstream/plan.ts decides which). */
function headersForUpstream(gh: Gatehouse, req: IncomingMessage, r: Routed, gate: GateAnswer, target: URL, upgrade = false) {
  return upstreamRequestHeaders(req.headers, {
    accessToken: gate.session?.tokens.accessToken ?? null,
    identity: gh.config.identityHeaders ? identityOf(gh.config, gate.session) : null,
    cookiePrefix: gh.config.cookiePrefix,
    sessionCookieName: gh.config.sso?.sessionCookieName,
    requestId: r.requestId,
    ingress: r.ingress.ingress,
    remoteAddress: req.socket.remoteAddress,
    target,
    upgrade,
  });
}

/** The routes an answer's URLs are mapped back through, its own first; the same for every request of a route. */
const mappedRoutes = new WeakMap<UpstreamRoute, readonly UpstreamRoute[]>();
function routesFor(gh: Gatehouse, upstream: UpstreamRoute): readonly UpstreamRoute[] {
  let routes = mappedRoutes.get(upstream);
  if (!routes) mappedRoutes.set(upstream, (routes = [upstream, ...gh.config.upstreams.filter((other) => other !== upstream)]));
  return routes;
}

/** How an upstream's answer is made safe for the browser (lib/upstream/response-headers.ts). */
const upstreamAnswer = (gh: Gatehouse, r: Routed, upstream: UpstreamRoute, setCookies: readonly SetCookie[]): BrowserResponseOptions => ({
  requestId: r.requestId,
  setCookies: setCookieHeaders(setCookies),
  ownCookies: { prefix: gh.config.cookiePrefix, sessionName: gh.config.sso?.sessionCookieName },
  mapping: { ingress: r.ingress.ingress, routes: routesFor(gh, upstream) },
});

/** The gate's answer when it does not let the request pass: 302 to log in, 401 JSON, or 403 (access rules). */
function writeGateRefusal(gh: Gatehouse, req: IncomingMessage, res: ServerResponse, r: Routed, gate: Exclude<GateAnswer, { kind: 'pass' }>): void {
  if (gate.kind === 'forbidden') {
    req.resume();
    return writeError(gh, req, res, 'forbidden', { requestId: r.requestId, ingressIndex: r.ingress.index, setCookies: gate.setCookies });
  }
  if (gate.kind === 'login') {
    res.writeHead(302, { Location: gate.location, 'Content-Length': '0', 'Cache-Control': 'no-store', 'Set-Cookie': setCookieHeaders(gate.setCookies) });
    return endLingering(res);
  }
  req.resume();
  const body = unauthenticatedBody(gate.loginUrl);
  res.writeHead(401, { Location: gate.loginUrl, 'Content-Length': String(Buffer.byteLength(body)), 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Set-Cookie': setCookieHeaders(gate.setCookies) });
  endLingering(res, body);
}

export async function serveUpstream(gh: Gatehouse, req: IncomingMessage, res: ServerResponse, r: Routed, upstream: UpstreamRoute): Promise<void> {
  const { config } = gh;
  const gate = await gateRequest(gh, gateInput(req, r, isNavigation(req.method ?? 'GET', headerReader(req.headers))));
  if (gate.kind !== 'pass') return writeGateRefusal(gh, req, res, r, gate);
  const target = upstreamUrl(upstream, r.innerRaw, r.search);
  forward(req, res, {
    target,
    headers: headersForUpstream(gh, req, r, gate, target),
    agents: gh.upstreamAgents,
    maxBodyBytes: config.upstreamMaxBody,
    timeoutMs: config.upstreamTimeoutMs,
    response: upstreamAnswer(gh, r, upstream, gate.setCookies),
    upstream: upstream.prefix,
    onFailure: (code, cause) => {
      log.warn('upstream request failed', { correlation_id: r.requestId, error_code: code, upstream: upstream.prefix, error: cause as Error });
      writeError(gh, req, res, code, { requestId: r.requestId, ingressIndex: r.ingress.index, cause });
    },
  });
}

/**
 * A WebSocket handshake on an upstream route: the same gate, then the two sockets spliced. A
 * handshake is a bodiless GET (RFC 6455 §4.1); the dispatcher refuses one that carries a body,
 * and any protocol other than WebSocket.
 */
export async function serveUpstreamUpgrade(gh: Gatehouse, req: IncomingMessage, socket: Duplex, head: Buffer, r: Routed, upstream: UpstreamRoute): Promise<void> {
  const gate = await gateRequest(gh, gateInput(req, r, false));
  if (gate.kind === 'forbidden') return rejectUpgrade(socket, 403, 'Forbidden', r.requestId);
  if (gate.kind !== 'pass') return rejectUpgrade(socket, 401, 'Unauthorized', r.requestId);
  const target = upstreamUrl(upstream, r.innerRaw, r.search);
  forwardUpgrade(req, socket, head, {
    target,
    headers: headersForUpstream(gh, req, r, gate, target, true),
    timeoutMs: gh.config.upstreamTimeoutMs,
    // A 101 carries no cookie of ours: a refreshed cookie session is written on the next request.
    response: upstreamAnswer(gh, r, upstream, []),
  });
}
