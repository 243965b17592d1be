/**
 * Identity headers (SPEC §4 item 5, `UPSTREAM_IDENTITY_HEADERS=true`): who the session's person is,
 * for upstreams behind Gatehouse and for proxies asking `/oauth2/auth`, in oauth2-proxy's names.
 * Pure: a session's claims in, header values out.
 *
 * Values are printable ASCII only: control characters never (a CR/LF would split the header),
 * non-ASCII as percent-encoded UTF-8 (`José` → `Jos%C3%A9`), and `%` itself as `%25`, so an
 * upstream gets the exact value back with one `decodeURIComponent`. Spaces at either end are
 * encoded too (HTTP would trim them). `X-Auth-Request-Groups` joins the groups with `,`; a comma
 * inside a group name is `%2C`, so splitting on `,` and decoding each item is exact.
 */
import { emailVerified, groupsOf } from '../access-rules';

export const IDENTITY_HEADERS = {
  user: 'x-auth-request-user',
  email: 'x-auth-request-email',
  preferredUsername: 'x-auth-request-preferred-username',
  groups: 'x-auth-request-groups',
  /** Only with several identity providers (SPEC §12). */
  provider: 'x-auth-request-provider',
} as const;

/** What the headers are made from: the session's `sub` and its kept id_token claims. */
export interface IdentitySource {
  sub: string;
  claims: Record<string, unknown>;
  groupsClaim: string;
  /**
   * The session's identity provider id, with several providers. A `sub` is unique only per issuer:
   * partner's `alice` is not corp's `alice`, so an upstream must key people on provider and user.
   */
  provider?: string;
}

const percent = (ch: string) => [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/**
 * `value` as a safe header value (see the module comment). `alsoEncode` lists more ASCII
 * characters to encode (`,` for a group name).
 */
export function headerValue(value: string, alsoEncode = ''): string {
  let out = '';
  const chars = [...value];
  chars.forEach((ch, i) => {
    const code = ch.codePointAt(0)!;
    const printable = code >= 0x21 && code <= 0x7e && ch !== '%' && !alsoEncode.includes(ch);
    const innerSpace = ch === ' ' && i > 0 && i < chars.length - 1;
    out += printable || innerSpace ? ch : percent(ch);
  });
  return out;
}

const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

/**
 * The headers for one person; a claim the session lacks sends no header. The email goes only
 * when `email_verified` is not false (the rule the access rules apply): an upstream that trusts
 * `X-Auth-Request-Email` must not be handed an address nobody proved.
 */
export function identityHeaders(source: IdentitySource): Record<string, string> {
  const out: Record<string, string> = {};
  const { claims } = source;
  if (source.sub) out[IDENTITY_HEADERS.user] = headerValue(source.sub);
  const email = text(claims.email);
  if (email && emailVerified(claims)) out[IDENTITY_HEADERS.email] = headerValue(email);
  const username = text(claims.preferred_username);
  if (username) out[IDENTITY_HEADERS.preferredUsername] = headerValue(username);
  const groups = groupsOf(claims, source.groupsClaim);
  if (groups.length > 0) out[IDENTITY_HEADERS.groups] = groups.map((g) => headerValue(g, ',')).join(',');
  if (source.provider) out[IDENTITY_HEADERS.provider] = headerValue(source.provider);
  return out;
}
