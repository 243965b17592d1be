/**
 * What a log line may carry (SPEC §7, §11): the fields of one log call made JSON-ready, with every
 * secret-named key redacted at any depth (objects, arrays, Maps, `Headers`, URL query parameters,
 * errors and their causes) and errors written with type, message, stack and cause chain.
 *
 * pino's own `redact` takes fixed paths (`req.headers.cookie`); a secret can sit anywhere in what a
 * caller logs (an IdP's error body in an error's cause, a header map), so the rule here is by key
 * name at every depth instead. One walk over what is logged, each object visited once (a repeated
 * or circular reference is written as a marker): linear in the size of the fields.
 */

export const REDACTED = '[redacted]';

/**
 * Keys whose values never reach a log, case aside: anything containing `token` (`access_token`,
 * `logout_token`, `x-auth-token`), `secret` (`client_secret`, `clientSecret`), `password`,
 * `credential`, `assertion` (`client_assertion`) or `private key`; and exactly `authorization`,
 * `proxy-authorization`, `cookie`, `set-cookie` (also `setCookies`: the session layer's cookie values,
 * whose `value` is a sealed session), an API key header, the OAuth authorization `code` and its
 * `code_verifier` (RFC 7636).
 */
export const SECRET_KEY = /token|secret|passw(or)?d|credential|assertion|private[-_]?key|^(proxy-)?authorization$|^(set[-_]?)?cookies?$|^(x-)?api[-_]?key$|^code([-_]?verifier)?$/i;

/**
 * Values that are credentials whatever their key: an `Authorization` scheme and its credentials
 * (`Bearer …`, `Basic …`), and a JWT (`eyJ….eyJ….…`: an id_token, an access token, a logout token).
 */
const CREDENTIAL_VALUE = /^(bearer|basic|dpop|negotiate)\s|^eyJ[\w-]*\.[\w-]*\./i;

/** Deeper than this, a value is written as a marker: log lines stay small whatever is passed. */
const MAX_DEPTH = 10;

type Seen = WeakSet<object>;

/** The fields of one log line, ready for JSON.stringify. */
export function redactFields(fields: Record<string, unknown>): Record<string, unknown> {
  return entries(Object.entries(fields), 0, new WeakSet());
}

function entries(pairs: Iterable<[unknown, unknown]>, depth: number, seen: Seen): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of pairs) {
    const key = String(rawKey);
    out[key] = SECRET_KEY.test(key) ? REDACTED : clean(value, depth + 1, seen);
  }
  return out;
}

function clean(value: unknown, depth: number, seen: Seen): unknown {
  switch (typeof value) {
    case 'string':
      return CREDENTIAL_VALUE.test(value) ? REDACTED : value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return value; // numbers, booleans; JSON drops undefined, functions and symbols
  }
  if (value === null) return null;
  if (seen.has(value)) return '[repeated]';
  if (depth > MAX_DEPTH) return '[too deep]';
  seen.add(value);
  if (value instanceof Error) return error(value, depth, seen);
  if (Array.isArray(value)) return value.map((item) => clean(item, depth + 1, seen));
  if (value instanceof Map || value instanceof URLSearchParams || (typeof Headers !== 'undefined' && value instanceof Headers)) return entries(value.entries(), depth, seen);
  if (value instanceof Set) return Array.from(value, (item) => clean(item, depth + 1, seen));
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof URL) return url(value);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return clean(toJSON.call(value), depth, seen);
  return entries(Object.entries(value), depth, seen);
}

/**
 * An error as pino's error serializer writes it (`type`, `message`, `stack`, `code`), its own
 * scalar fields (`errno`, `syscall`, `port`, `status`, an OAuth `error`) and its `cause` chain (an
 * AggregateError's `errors` too), each cleaned the same way. Object-valued fields of an error are
 * left out: that is where libraries keep the request, the response or the command that failed
 * (ioredis keeps `AUTH`'s arguments, the password among them, in `command.args`).
 * `code` here is the error's own identifier (`ECONNREFUSED`, `ERR_JWT_EXPIRED`), kept for the
 * operator; a `code` anywhere else (an authorization code) is redacted.
 */
function error(err: Error, depth: number, seen: Seen): Record<string, unknown> {
  const type = typeof err.constructor === 'function' && err.constructor.name ? err.constructor.name : err.name;
  const out: Record<string, unknown> = { type, message: err.message, stack: err.stack };
  const own = err as Error & { code?: unknown; errors?: unknown };
  if (typeof own.code === 'string' || typeof own.code === 'number') out.code = own.code;
  for (const [key, value] of Object.entries(err)) {
    if (key === 'code' || key === 'cause' || key in out || (typeof value === 'object' && value !== null) || typeof value === 'function') continue;
    out[key] = SECRET_KEY.test(key) ? REDACTED : clean(value, depth + 1, seen);
  }
  if (err.cause !== undefined) out.cause = clean(err.cause, depth + 1, seen);
  if (Array.isArray(own.errors)) out.errors = clean(own.errors, depth + 1, seen);
  return out;
}

/** A URL with its password and secret-named query parameters (`?code=`, `?access_token=`) redacted. */
function url(value: URL): string {
  if (!value.password && ![...value.searchParams.keys()].some((k) => SECRET_KEY.test(k))) return value.href;
  const copy = new URL(value.href);
  if (copy.password) copy.password = 'redacted';
  for (const key of new Set(copy.searchParams.keys())) if (SECRET_KEY.test(key)) copy.searchParams.set(key, 'redacted');
  return copy.href;
}
