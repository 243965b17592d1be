/**
 * OIDC Back-Channel Logout 1.0 §2.6: validates a `logout_token` with jose (openid-client does not).
 * Signature against the IdP's JWKS, `iss`, `aud`, `iat`, the back-channel `events` member,
 * no `nonce`, and a `sid` and/or `sub`. `typ` is not required: many IdPs still send `JWT`.
 * Replay (`jti`) is checked by the caller's store.
 */
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose';
import { processWide } from '../process-wide';
import { timedAs } from './idp-fetch';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** Logout tokens are meant to be used at once; an old one is a replay candidate. */
const MAX_TOKEN_AGE = '5m';

export interface LogoutClaims { jti: string; sid?: string; sub?: string; exp: number }

const jwksCache = processWide('logout-token.jwks', () => new Map<string, ReturnType<typeof createRemoteJWKSet>>());

function jwksFor(jwksUri: string) {
  let jwks = jwksCache.get(jwksUri);
  if (!jwks) jwksCache.set(jwksUri, (jwks = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5_000, [customFetch]: timedAs('jwks') })));
  return jwks;
}

export class InvalidLogoutToken extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`invalid logout_token: ${reason}`, options);
    this.name = 'InvalidLogoutToken';
  }
}

export async function verifyLogoutToken(token: string, expected: { issuer: string; clientId: string; jwksUri: string }): Promise<LogoutClaims> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, jwksFor(expected.jwksUri), {
      issuer: expected.issuer,
      audience: expected.clientId,
      maxTokenAge: MAX_TOKEN_AGE,
      requiredClaims: ['iat', 'jti'],
      clockTolerance: 30,
    }));
  } catch (error) {
    throw new InvalidLogoutToken((error as Error).message, { cause: error });
  }
  const events = payload.events as Record<string, unknown> | undefined;
  if (!events || typeof events !== 'object' || typeof events[BACKCHANNEL_EVENT] !== 'object') throw new InvalidLogoutToken('events lacks the back-channel logout event');
  if ('nonce' in payload) throw new InvalidLogoutToken('nonce is not allowed');
  const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
  const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
  if (!sid && !sub) throw new InvalidLogoutToken('needs sid or sub');
  if (typeof payload.jti !== 'string') throw new InvalidLogoutToken('jti must be a string');
  return { jti: payload.jti, sid, sub, exp: (payload.iat ?? 0) + 300 };
}
