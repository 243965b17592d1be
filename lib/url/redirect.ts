/**
 * Redirect targets (SPEC §6): every `redirect` value is reduced to a same-origin relative path, or
 * replaced by the caller's fallback. The rules are deliberately stricter than browsers: anything a
 * browser, a proxy or an application that decodes once more might read as "another host" is
 * refused, and when in doubt the fallback wins.
 */
import { isOAuth2Path } from '../routes';

/** Longest `redirect` value kept; bounds the work done here and the size of the login cookie. */
export const MAX_REDIRECT_LENGTH = 2048;

/** A consumer that percent-decodes this many times still sees a same-origin path; deeper nesting is refused. */
const MAX_DECODE_ROUNDS = 4;

/** Never a real host: relative values are resolved against it only to let WHATWG URL normalise them. */
const BASE = new URL('http://gatehouse.invalid');

/** Exactly one `/`, then anything but another slash, a backslash or whitespace (or the end). */
const SAFE_START = /^\/(?![/\\\s])/u;

/** `%` not followed by two hex digits: invalid percent-encoding. */
const STRAY_PERCENT = /%(?![0-9a-fA-F]{2})/;

/**
 * Controls (C0, DEL, C1), format characters (zero-width, bidi), private use, lone surrogates, and
 * every separator except the ASCII space (which the URL serialiser encodes harmlessly).
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/u;

/** Slash, backslash and dot look-alikes that NFKC leaves as they are (IDNA maps some of them). */
const LOOKALIKES = /[\u0337\u0338\u2044\u2215\u2216\u2571\u2572\u29F5\u29F8\u29F9\u3002\uFF61]/u;

/**
 * `input` as an absolute URL when it matches `shape` and parses, without credentials:
 * `https://evil@good` style values exist only to confuse readers, so they are refused, not guessed.
 */
function absoluteUrl(input: string, shape: RegExp): URL | null {
  if (!shape.test(input)) return null;
  try {
    const url = new URL(input);
    return url.username || url.password ? null : url;
  } catch {
    return null;
  }
}

/**
 * Reduces a `redirect` value to a same-origin relative path (path, query and fragment), SPEC §6.
 *
 * Relative values must start with a single `/`; absolute `http(s)://host/...` values lose scheme,
 * host and port (`https://evil.example/foo?x=1` → `/foo?x=1`); other schemes, scheme-relative
 * tricks (`https:evil`, `http:/x`), backslashes, control or invisible characters, Unicode
 * look-alikes, invalid percent-encoding, and values that turn into `//`, `/\` or a control
 * character after one or more rounds of percent-decoding all yield `fallback`.
 *
 * Security: the result always resolves against any base URL to that base's origin, contains no
 * raw CR/LF or non-ASCII character (safe for a `Location` header), and is a fixed point
 * (sanitising it again returns it unchanged), so it can be checked when stored and when used.
 *
 * @param input the raw value (already decoded once from the query string), or nothing
 * @param fallback returned unchanged when `input` is missing or refused (callers pass the ingress path)
 */
export function sanitizeRedirect(input: string | null | undefined, fallback: string): string {
  return typeof input === 'string' ? (reduce(input) ?? fallback) : fallback;
}

/**
 * The path and query of a `Referer` that points inside the ingress, for the login target's
 * second priority (SPEC §3 `/oauth2/login`): same origin as `ingress`, path equal to or below the
 * ingress path, and not one of Gatehouse's own `/oauth2` endpoints (landing there after login
 * would start another login or logout). The result passes {@link sanitizeRedirect}'s rules.
 *
 * @returns the relative target, or `null` when the Referer is missing, foreign or unsafe
 */
export function sameOriginRefererPath(referer: string | null, ingress: URL): string | null {
  if (!referer) return null;
  let url: URL;
  try {
    url = new URL(referer);
  } catch {
    return null;
  }
  if (url.origin !== ingress.origin || url.username || url.password) return null;
  const base = ingress.pathname.replace(/\/+$/, '');
  const path = url.pathname;
  if (path !== base && !path.startsWith(`${base}/`)) return null;
  if (isOAuth2Path(path.slice(base.length))) return null;
  return reduce(path + url.search);
}

/**
 * Whether `location` (as it would appear in a `Location` header) resolves against `base` to
 * `base`'s origin. A test helper for SPEC §6: what a browser would do with the redirect.
 */
export function resolvesToOrigin(location: string, base: URL): boolean {
  try {
    return new URL(location, base).origin === base.origin;
  } catch {
    return false;
  }
}

function reduce(input: string): string | null {
  if (input.length === 0 || input.length > MAX_REDIRECT_LENGTH) return null;
  // Browsers strip leading whitespace and read `\` as `/`: both turn `/\host` or ` //host` into another origin.
  if (input !== input.trim() || input.includes('\\') || hasSuspiciousChar(input)) return null;
  let relative = input;
  if (!input.startsWith('/')) {
    // Only a real `http(s)://host` may lose its host; `https:evil`, `http:/x`, `javascript:` do not qualify.
    const url = absoluteUrl(input, /^https?:\/\/[^/?#@]/i);
    if (!url) return null;
    relative = url.pathname + url.search + url.hash;
  }
  const normalised = normalise(relative);
  return normalised !== null && normalised.length <= MAX_REDIRECT_LENGTH && survivesDecoding(normalised) ? normalised : null;
}

/** WHATWG URL serialisation: resolves dot segments (`/..//x` → `//x`, caught here) and percent-encodes. */
function normalise(relative: string): string | null {
  if (!SAFE_START.test(relative)) return null;
  let url: URL;
  try {
    url = new URL(relative, BASE);
  } catch {
    return null;
  }
  if (url.origin !== BASE.origin) return null;
  const result = url.pathname + url.search + url.hash;
  return SAFE_START.test(result) ? result : null;
}

/**
 * A downstream that decodes the target (once for the whole value, repeatedly for the path) must
 * still see a safe, same-origin path: `/%2F%2Fhost`, `/%252F%252Fhost` and `/%0d%0a...` are refused.
 */
function survivesDecoding(value: string): boolean {
  if (STRAY_PERCENT.test(value)) return false;
  const once = percentDecode(value);
  if (once === null || hasSuspiciousChar(once)) return false;
  let path = value.replace(/[?#][\s\S]*$/, '');
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    const decoded = percentDecode(path);
    if (decoded === null || hasSuspiciousChar(decoded) || normalise(decoded) === null) return false;
    if (decoded === path) return true;
    path = decoded;
  }
  return false;
}

/**
 * Decodes every `%XX` run as UTF-8 and leaves a stray `%` alone (a decoded `%25` is legitimate);
 * `null` on invalid UTF-8 such as the overlong `%C0%AE`.
 */
function percentDecode(value: string): string | null {
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return value.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) =>
      utf8.decode(Uint8Array.from(run.slice(1).split('%'), (hex) => parseInt(hex, 16))),
    );
  } catch {
    return null;
  }
}

/** Invisible characters, known look-alikes, and non-ASCII characters that NFKC folds into ASCII (`／`, `ⓔ`). */
function hasSuspiciousChar(value: string): boolean {
  if (INVISIBLE.test(value) || LOOKALIKES.test(value)) return true;
  for (const char of value) {
    if (char > '\x7F' && /[\x00-\x7F]/.test(char.normalize('NFKC'))) return true;
  }
  return false;
}

/**
 * SSO server (SPEC §8): an absolute `redirect` to `domain` or one of its subdomains, kept absolute.
 * Everything else is `null` (the caller then applies {@link sanitizeRedirect}).
 *
 * Only `https://host[:port]/...` (or `http://` when `allowHttp`) with a host that equals `domain`
 * or ends in `.<domain>` at a label boundary: `example.com.evil.net`, `evilexample.com`,
 * userinfo (`https://example.com@evil.net`, `https://evil.net@example.com`), scheme-relative
 * values and anything {@link sanitizeRedirect} would refuse in the path are refused. Ports are
 * allowed: cookies ignore ports, so a port does not widen what the session cookie reaches.
 *
 * @returns the normalised absolute URL (ASCII, safe for a `Location` header), or `null`
 */
export function ssoRedirect(input: string | null | undefined, domain: string, allowHttp: boolean): string | null {
  if (typeof input !== 'string' || !domain || input.length === 0 || input.length > MAX_REDIRECT_LENGTH) return null;
  if (input !== input.trim() || input.includes('\\') || hasSuspiciousChar(input)) return null;
  const scheme = allowHttp ? /^https?:\/\/[^/?#@\\]+(?:[/?#]|$)/i : /^https:\/\/[^/?#@\\]+(?:[/?#]|$)/i;
  const url = absoluteUrl(input, scheme);
  if (!url) return null;
  const host = url.hostname.toLowerCase();
  if (host !== domain && !host.endsWith(`.${domain}`)) return null;
  const path = reduce(url.pathname + url.search + url.hash);
  if (path === null) return null;
  const result = url.origin + path;
  return result.length <= MAX_REDIRECT_LENGTH ? result : null;
}
