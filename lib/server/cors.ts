/**
 * SSO server, `/oauth2/session*` (SPEC §8): CORS with credentials for origins on the SSO domain,
 * nothing for others. The preflight is answered here; the actual request gets the headers and goes
 * on to Next.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gatehouse } from '../gatehouse';
import { corsOrigin } from '../sso';
import { endLingering } from './node-http';

/** The CORS headers of an answer to `req`; returns the allowed origin, if any. */
export function setCorsHeaders(gh: Gatehouse, req: IncomingMessage, res: ServerResponse): string | null {
  const origin = corsOrigin(gh.config, req.headers.origin);
  res.setHeader('Vary', 'Origin');
  if (origin) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
  }
  return origin;
}

export function answerPreflight(gh: Gatehouse, req: IncomingMessage, res: ServerResponse): void {
  const origin = setCorsHeaders(gh, req, res);
  req.resume();
  const headers: Record<string, string> = { 'Content-Length': '0', 'Cache-Control': 'no-store' };
  if (origin) {
    headers['Access-Control-Allow-Methods'] = 'GET, POST, OPTIONS';
    headers['Access-Control-Allow-Headers'] = 'Content-Type, X-Request-Id';
    headers['Access-Control-Max-Age'] = '600';
  }
  res.writeHead(204, headers);
  endLingering(res);
}
