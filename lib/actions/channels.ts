/**
 * Logout initiated by the IdP (SPEC §3): front-channel (a hidden iframe in the browser) and
 * back-channel (a signed logout token posted server to server). Both end every session of the
 * IdP session (`sid`) or user (`sub`).
 */
import { decodeJwt } from 'jose';
import type { RelyingPartyGatehouse } from '../gatehouse';
import type { RequestContext } from '../http/context';
import { json } from '../http/responses';
import { log } from '../log';
import { metrics } from '../metrics';
import { InvalidLogoutToken, verifyLogoutToken } from '../oidc/logout-token';
import { providerByIssuer, sessionProviderId } from '../oidc/providers';

/** A logout token is a few KB; anything far larger is not one. */
export const MAX_LOGOUT_FORM_BYTES = 64 * 1024;

/** IdP session ids are UUIDs or similar; far longer values are not one. */
export const MAX_SID_LENGTH = 512;

export async function frontChannelLogout(gh: RelyingPartyGatehouse, ctx: RequestContext): Promise<Response> {
  const rp = gh.relyingParty;
  const iss = ctx.query.get('iss');
  const sid = ctx.query.get('sid');
  // SPEC §12: `iss` selects the provider; without it, a `sid` of any configured provider.
  const provider = iss === null ? undefined : await providerByIssuer(rp, iss);
  if (iss !== null && !provider) return json(400, { error: 'invalid_request', error_description: 'iss does not match' });
  if (!sid) return new Response(null, { status: 202 });
  // Anyone may call this endpoint: a value no IdP would issue is refused before it costs memory.
  if (sid.length > MAX_SID_LENGTH) return json(400, { error: 'invalid_request', error_description: 'sid is too long' });
  const providers = provider ? [provider] : rp.providers;
  let ended = 0;
  for (const p of providers) ended += await rp.sessions.endBySubject({ sid, verified: false, provider: sessionProviderId(rp, p) });
  metrics.logouts.inc({ channel: 'front_channel' }, ended);
  log.info('front-channel logout', { ended });
  return new Response('', { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
}

/** `body` is the form, or null when it was larger than `MAX_LOGOUT_FORM_BYTES`. */
export async function backChannelLogout(gh: RelyingPartyGatehouse, ctx: RequestContext, body: string | null): Promise<Response> {
  const rp = gh.relyingParty;
  const invalid = (reason: string) => {
    log.warn('back-channel logout refused', { reason });
    return json(400, { error: 'invalid_request' });
  };
  if (body === null) return invalid('body too large');
  const token = new URLSearchParams(body).get('logout_token');
  if (!token) return invalid('no logout_token');
  let claims;
  let provider;
  try {
    // SPEC §12: the token's (still unverified) `iss` only picks whose keys, issuer and client id it
    // is then verified against; a token signed by another provider fails that verification.
    provider = await providerByIssuer(rp, unverifiedIssuer(token));
    if (!provider) return invalid('iss is not a configured identity provider');
    const metadata = (await rp.oidc(provider)).serverMetadata();
    claims = await verifyLogoutToken(token, { issuer: metadata.issuer, clientId: provider.clientId, jwksUri: metadata.jwks_uri! });
  } catch (error) {
    if (error instanceof InvalidLogoutToken) return invalid(error.message);
    log.error('back-channel logout could not be checked', { error: error as Error });
    return json(503, { error: 'temporarily_unavailable' });
  }
  // Remembered until the token is too old to be accepted anyway (`exp`, plus the clock skew allowed).
  const first = await rp.sessions.firstUse(claims.jti, claims.exp * 1000 + 60_000);
  if (first === 'full') return json(503, { error: 'temporarily_unavailable' });
  if (first === 'replayed') return invalid('jti replayed');
  const ended = await rp.sessions.endBySubject({ sid: claims.sid, sub: claims.sid ? undefined : claims.sub, verified: true, provider: sessionProviderId(rp, provider) });
  metrics.logouts.inc({ channel: 'back_channel' }, ended);
  log.info('back-channel logout', { ended });
  return new Response(null, { status: 200 });
}

/** The `iss` a JWT claims, '' when it is not a JWT at all (verification then refuses it). */
function unverifiedIssuer(token: string): string {
  try {
    const { iss } = decodeJwt(token);
    return typeof iss === 'string' ? iss : '';
  } catch {
    return '';
  }
}
