/**
 * SSO proxy (SPEC §8): the session API and the logout channels belong to the server, which owns
 * the session cookie: forwarded with the browser's cookies, answered with the server's headers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gatehouse } from '../gatehouse';
import { log } from '../log';
import { serverUrl } from '../sso';
import { forward } from '../upstream/forward';
import { upstreamRequestHeaders } from '../upstream/plan';
import { writeError } from './error-writer';
import { NEXT_MAX_BODY_BYTES } from './next-app';
import type { Routed } from './routing';

export function forwardToSsoServer(gh: Gatehouse, req: IncomingMessage, res: ServerResponse, r: Routed, serverBase: URL): void {
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
      writeError(gh, req, res, code, { requestId: r.requestId, ingressIndex: r.ingress.index, cause });
    },
  });
}
