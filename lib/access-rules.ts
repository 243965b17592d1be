/**
 * Access rules (SPEC §12): which of the people the IdP authenticates may use Gatehouse at all.
 * Pure: the rules from config and the id_token claims a session keeps, in; a decision, out.
 *
 * - `ALLOWED_EMAIL_DOMAINS`: the domain after the LAST `@` of the `email` claim, compared exactly
 *   (ASCII case-insensitive) with a listed domain; `*.example.com` admits the sub-domains of
 *   example.com at a label boundary (not example.com itself: list both for both). No suffix
 *   matching ever: `user@notexample.com`, `user@example.com.evil` do not pass `example.com`.
 *   `email_verified` must be absent (IdPs such as Entra ID never send it), `true` or `"true"`.
 * - `ALLOWED_GROUPS`: any listed group (exact, case-sensitive) in the `GROUPS_CLAIM` claim, which
 *   holds an array of strings or one string (one group; never split).
 * - Both set: both must pass (oauth2-proxy's semantics).
 */

export interface AccessRules {
  /** Lowercase domains; `*.example.com` for sub-domains. Empty: no email rule. */
  emailDomains: readonly string[];
  /** Empty: no group rule. */
  groups: readonly string[];
  /** Claim name; see {@link claimAt} for names with dots. */
  groupsClaim: string;
}

/** Why a login or a session is refused; logged, never shown. */
export type AccessDenial = 'email_missing' | 'email_unverified' | 'email_domain' | 'groups';

/** True when no rule is set: everyone the IdP authenticates passes (SPEC §2). */
export const hasAccessRules = (rules: AccessRules) => rules.emailDomains.length > 0 || rules.groups.length > 0;

const own = (o: unknown, key: string): o is Record<string, unknown> =>
  typeof o === 'object' && o !== null && !Array.isArray(o) && Object.prototype.hasOwnProperty.call(o, key);

/**
 * The claim `name`: a claim of exactly that name wins (URL-shaped names such as
 * `https://example.com/groups` hold dots); otherwise dots walk into nested objects
 * (`realm_access.roles`, Keycloak). Own properties only: `__proto__` or `constructor` read nothing.
 */
export function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (own(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (!own(value, part)) return undefined;
    value = value[part];
  }
  return value;
}

/** The groups in `GROUPS_CLAIM`: an array's strings (other entries skipped), or one string. */
export function groupsOf(claims: Record<string, unknown>, groupsClaim: string): string[] {
  const value = claimAt(claims, groupsClaim);
  if (typeof value === 'string') return value ? [value] : [];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === 'string' && g.length > 0);
  return [];
}

/** Lowercases A–Z only: `toLowerCase()` folds the Kelvin sign `K` (U+212A) into `k`, another domain. */
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** A host name of LDH labels: anything else (spaces, non-ASCII, empty labels) matches no rule. */
const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** The domain of an address: after the last `@` (a quoted local part may hold `@`), or null. */
export function emailDomain(email: unknown): string | null {
  if (typeof email !== 'string') return null;
  const at = email.lastIndexOf('@');
  if (at < 1) return null;
  const domain = asciiLower(email.slice(at + 1));
  return HOST.test(domain) ? domain : null;
}

/** SPEC §12 "`email_verified` not false": absent, `true` or `"true"`; anything else is not verified. */
export function emailVerified(claims: Record<string, unknown>): boolean {
  if (!own(claims, 'email_verified')) return true;
  const v = claims.email_verified;
  return v === true || (typeof v === 'string' && asciiLower(v) === 'true');
}

/** Whether `domain` (lowercase) is one of `allowed`: exact, or below a `*.` entry at a label boundary. */
export const domainAllowed = (domain: string, allowed: readonly string[]) =>
  allowed.some((entry) => (entry.startsWith('*.') ? domain.endsWith(entry.slice(1)) && domain.length > entry.length - 1 : domain === entry));

/**
 * SPEC §12: whether the person these claims describe may pass.
 *
 * @returns null when allowed, else the first rule that failed
 */
export function accessDenial(rules: AccessRules, claims: Record<string, unknown>): AccessDenial | null {
  if (rules.emailDomains.length > 0) {
    const domain = emailDomain(claims.email);
    if (domain === null) return 'email_missing';
    if (!emailVerified(claims)) return 'email_unverified';
    if (!domainAllowed(domain, rules.emailDomains)) return 'email_domain';
  }
  if (rules.groups.length > 0) {
    const groups = groupsOf(claims, rules.groupsClaim);
    if (!rules.groups.some((g) => groups.includes(g))) return 'groups';
  }
  return null;
}
