/**
 * Handing a request to Next.js (`/oauth2/*` and the app's pages): Next sees the path below the
 * ingress and only headers it can trust, a bounded body, and its answer's caching headers get the
 * last word (lib/server/gatehouse-response.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gatehouse } from '../gatehouse';
import { firstCookies, isOwnCookie } from '../http/cookies';
import { INGRESS_HEADER } from '../http/internal-headers';
import { log } from '../log';
import { isOAuth2Path, ROUTES } from '../routes';
import { requestFraming } from '../upstream/framing';
import { writeError } from './error-writer';
import type { GatehouseResponse } from './gatehouse-response';
import { guardNextBody } from './next-body';
import type { Routed } from './routing';

export type NextHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Headers a client could send to steer Next.js: its internal ones (`x-middleware-subrequest` once
 * let a request skip the interception file entirely) and forwarding headers Next would build URLs
 * from. Gatehouse builds public URLs from INGRESS only.
 */
const UNTRUSTED_FOR_NEXT = /^(x-middleware-|x-nextjs-|x-invoke-|x-gatehouse-|x-forwarded-|forwarded$|x-now-|x-vercel-)/;

/** The proxy's description of the request it asks about (lib/actions/forward-auth.ts); Next builds no URL from them. */
const FORWARD_AUTH_HEADERS = new Set(['x-forwarded-uri']);

/** Largest body handed to Next (route handlers, server actions): Next's own server-action default. */
export const NEXT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Most cookies handed to Next: what browsers keep for one site at most (Chrome: 180). Next builds
 * its cookie jar one cookie at a time, rewriting it each time, in time quadratic in the count.
 */
const MAX_COOKIES_FOR_NEXT = 180;

export async function serveByNext(gh: Gatehouse, req: IncomingMessage, res: GatehouseResponse, r: Routed, next: NextHandler): Promise<void> {
  const place = { requestId: r.requestId, ingressIndex: r.ingress.index };
  // Next buffers bodies before anything of ours runs: refuse declared giants up front, and bound
  // the size and arrival time of the rest (lib/server/next-body.ts).
  const framing = requestFraming(req.headers);
  if (framing.kind === 'length' && framing.length > NEXT_MAX_BODY_BYTES) return writeError(gh, req, res, 'payload_too_large', place);
  guardNextBody(req, framing, {
    maxBytes: NEXT_MAX_BODY_BYTES,
    timeoutMs: gh.config.upstreamTimeoutMs,
    onViolation: (code) => {
      log.warn('request body refused', { correlation_id: r.requestId, error_code: code });
      res.shouldKeepAlive = false;
      if (res.headersSent) return void req.socket.destroy();
      writeError(gh, req, res, code, place);
      res.once('finish', () => req.socket.destroy());
    },
  });
  // Forward-auth reads the request a proxy asks about from X-Forwarded-Uri (Traefik).
  const keep = r.innerDecoded === ROUTES.auth ? FORWARD_AUTH_HEADERS : null;
  for (const name of Object.keys(req.headers)) {
    if (UNTRUSTED_FOR_NEXT.test(name) && !keep?.has(name)) delete req.headers[name];
  }
  if (req.headers.cookie) req.headers.cookie = firstCookies(req.headers.cookie, MAX_COOKIES_FOR_NEXT);
  req.url = r.innerRaw + r.search;
  req.headers['x-request-id'] = r.requestId;
  req.headers[INGRESS_HEADER] = String(r.ingress.index);
  const { cookiePrefix, sso } = gh.config;
  res.nextRules = { oauth2: isOAuth2Path(r.innerDecoded), isOwnCookie: (name) => isOwnCookie(cookiePrefix, name, sso?.sessionCookieName) };
  await next(req, res);
}
