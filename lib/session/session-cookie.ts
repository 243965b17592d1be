/**
 * The session cookie (SPEC §5): a sealed `CookiePayload`, split into `<prefix>.session`,
 * `<prefix>.session.1`, … when it outgrows one cookie. Reading stops at `MAX_CHUNKS`, so a request
 * carrying thousands of chunks costs no more than a normal one.
 */
import { cookie, cookieNames, expired, sessionCookieScope, type CookieScope, type SetCookie } from '../http/cookies';
import { seal, unseal } from '../seal';
import type { CookiePayload } from './store';

/** Browsers keep about 4096 bytes per cookie including name and attributes. */
const CHUNK_SIZE = 3800;
export const MAX_CHUNKS = 8;

export async function readSessionCookie(cookies: Map<string, string>, prefix: string, secrets: readonly string[], ttlSeconds: number, sessionName?: string): Promise<CookiePayload | null> {
  const names = cookieNames(prefix, sessionName);
  let sealed = cookies.get(names.session);
  if (!sealed) return null;
  for (let n = 1; n < MAX_CHUNKS; n++) {
    const chunk = cookies.get(names.sessionChunk(n));
    if (chunk === undefined) break;
    sealed += chunk;
  }
  const payload = await unseal<CookiePayload>('session', sealed, secrets, ttlSeconds);
  return payload && (payload.t === 'ticket' || payload.t === 'inline') ? payload : null;
}

/**
 * `Set-Cookie` values for a payload, expiring chunks a previous, longer value left behind.
 * Throws when the session would need more chunks than a browser would send back.
 */
export async function writeSessionCookie(
  payload: CookiePayload,
  existing: Map<string, string>,
  requestScope: CookieScope,
  secrets: readonly string[],
  ttlSeconds: number,
): Promise<SetCookie[]> {
  const scope = sessionCookieScope(requestScope);
  const names = cookieNames(scope.prefix, scope.sessionName);
  const sealed = await seal('session', payload, secrets, ttlSeconds);
  const chunks = sealed.match(new RegExp(`.{1,${CHUNK_SIZE}}`, 'g')) ?? [];
  if (chunks.length > MAX_CHUNKS) throw new Error(`session cookie needs ${chunks.length} chunks (max ${MAX_CHUNKS}): configure Redis`);
  const cookies = chunks.map((chunk, n) => cookie(n === 0 ? names.session : names.sessionChunk(n), chunk, scope, ttlSeconds));
  for (let n = Math.max(1, chunks.length); n < MAX_CHUNKS; n++) {
    if (existing.has(names.sessionChunk(n))) cookies.push(expired(names.sessionChunk(n), scope));
  }
  return cookies;
}

export function clearSessionCookie(existing: Map<string, string>, requestScope: CookieScope): SetCookie[] {
  const scope = sessionCookieScope(requestScope);
  const names = cookieNames(scope.prefix, scope.sessionName);
  const cookies = [expired(names.session, scope)];
  for (let n = 1; n < MAX_CHUNKS; n++) {
    if (existing.has(names.sessionChunk(n))) cookies.push(expired(names.sessionChunk(n), scope));
  }
  return cookies;
}
