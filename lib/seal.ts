/**
 * Sealing with iron-session's `sealData`/`unsealData` (AES-256-CBC + HMAC-SHA256 via iron).
 * Every sealed value is bound to a purpose, so a login cookie can never be replayed as a session.
 * SPEC §5: "Sealed values carry an expiry and are bound to their purpose"; §2 rotation: the first
 * secret seals, all unseal. Anything that does not unseal is `null`, never an exception.
 */
import { createHash } from 'node:crypto';
import { sealData, unsealData } from 'iron-session';
import { processWide } from './process-wide';

export type SealPurpose = 'session' | 'login' | 'logout' | 'stored-session';

type PasswordMap = Record<string, string>;

/**
 * Iron names the password a value was sealed with by id. Ids derived from the secret itself stay
 * stable when the list is reordered or shortened during a rotation.
 */
const secretId = (secret: string) => String(parseInt(createHash('sha256').update(secret).digest('hex').slice(0, 8), 16));
/**
 * The password maps of recent secret lists, by the list's contents: the Redis store opens each
 * request's stored session with that session's own key, a new one-element list every time, and
 * hashing it afresh cost three SHA-256 runs per request. Bounded like the cache of opened seals
 * below (whose values already hold what these keys open).
 */
const PASSWORD_MAPS_MAX = 5_000;
const passwordMaps = processWide('seal.passwords', () => new Map<string, { seal: PasswordMap; unseal: PasswordMap; cacheKey: string }>());

function passwords(secrets: readonly string[]) {
  const list = JSON.stringify(secrets); // one spelling per list: no two lists share a key
  let entry = passwordMaps.get(list);
  if (!entry) {
    const unseal: PasswordMap = {};
    for (const secret of secrets) unseal[secretId(secret)] ??= secret;
    // Names the secret list in the cache of opened seals without holding the secrets themselves.
    const cacheKey = createHash('sha256').update(list).digest('base64url');
    entry = { seal: { [secretId(secrets[0])]: secrets[0] }, unseal, cacheKey };
    passwordMaps.set(list, entry);
    if (passwordMaps.size > PASSWORD_MAPS_MAX) passwordMaps.delete(passwordMaps.keys().next().value!);
  }
  return entry;
}

export async function seal(purpose: SealPurpose, data: unknown, secrets: readonly string[], ttlSeconds: number): Promise<string> {
  return sealData({ p: purpose, d: data } as Record<string, unknown>, { password: passwords(secrets).seal, ttl: Math.ceil(ttlSeconds) });
}

/**
 * Opening a seal costs about 0.2 ms of CPU, and every request opens one or two (cookie, then the
 * Redis copy). A sealed string always opens to the same value until it expires, so recent results
 * are kept, keyed by purpose, secret list and the seal's last field (its HMAC, which differs
 * between any two seals), and a hit must equal the whole string: a short key to hash, and no copy
 * of a 4 KB cookie into a key on every request. Bounded in entries and in bytes (a value is about as large as its seal); only seals that opened
 * are kept, so strangers' garbage takes no room. Revocation is not affected: the stores decide
 * whether a session still exists; this only skips repeating the cryptography.
 */
const RECENT_MAX = 5_000;
const RECENT_MAX_BYTES = 32 * 1024 * 1024;
const RECENT_MS = 60_000;
const cache = processWide('seal.recent', () => ({ entries: new Map<string, { sealed: string; value: unknown; until: number; bytes: number }>(), bytes: 0 }));
const recent = cache.entries;
const recentKey = (purpose: SealPurpose, secrets: readonly string[], sealed: string) =>
  `${purpose}\u0000${passwords(secrets).cacheKey}\u0000${sealed.slice(sealed.lastIndexOf('*') + 1)}`;

/** Iron's seal carries its own expiry (ms) in the sixth `*`-separated field. */
const sealExpiry = (sealed: string) => Number(sealed.split('*', 6)[5]) || 0;

function remember(key: string, sealed: string, value: unknown, until: number, bytes: number) {
  forget(key);
  recent.set(key, { sealed, value, until, bytes });
  cache.bytes += bytes;
  while (recent.size > RECENT_MAX || cache.bytes > RECENT_MAX_BYTES) forget(recent.keys().next().value!);
}

function forget(key: string) {
  const entry = recent.get(key);
  if (!entry) return;
  recent.delete(key);
  cache.bytes -= entry.bytes;
}

/**
 * iron-session writes `<iron seal>~2` and reads a seal only up to its first `~`, so `<seal>x` or
 * `<seal>~2~x` would open too. Only the exact form is accepted: one value has one spelling, and
 * the last `*` field (the cache key) is the HMAC and nothing a sender appends.
 */
const VERSION_SUFFIX = '~2';
const isCanonical = (sealed: string) => sealed.indexOf('~') === sealed.length - VERSION_SUFFIX.length && sealed.endsWith(VERSION_SUFFIX);

export async function unseal<T>(purpose: SealPurpose, sealed: string, secrets: readonly string[], ttlSeconds: number): Promise<T | null> {
  if (!sealed || sealed.length > 64 * 1024 || !isCanonical(sealed) || secrets.length === 0) return null;
  const key = recentKey(purpose, secrets, sealed);
  const now = Date.now();
  const hit = recent.get(key);
  if (hit && hit.sealed === sealed && hit.until > now) return hit.value as T;
  let value: T | null = null;
  try {
    const box = await unsealData<{ p?: string; d?: T }>(sealed, { password: passwords(secrets).unseal, ttl: Math.ceil(ttlSeconds) });
    value = box.p === purpose && box.d !== undefined ? box.d : null;
  } catch {
    return null;
  }
  if (value !== null) {
    const expiry = sealExpiry(sealed);
    // A copy: `sealed` is usually a slice of the whole Cookie header, which the entry would keep.
    remember(key, Buffer.from(sealed, 'latin1').toString('latin1'), value, Math.min(now + RECENT_MS, expiry || now + RECENT_MS), 2 * sealed.length + 256);
  }
  return value;
}
