/**
 * The config values of the access rules and identity headers (SPEC §2 `ALLOWED_EMAIL_DOMAINS`,
 * `ALLOWED_GROUPS`, `GROUPS_CLAIM`): parsed here so lib/config.ts holds only one line each, and a
 * mistake stops startup naming the variable.
 */
import { list, optional } from './config-values';

/** `example.com` or `*.example.com`: LDH labels, at least two, any case (kept lowercase). */
const DOMAIN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;

export const emailDomains = optional.transform((value, ctx) =>
  (value ? list(value) : []).map((entry) => {
    const domain = entry.toLowerCase();
    if (!DOMAIN.test(domain)) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" is not a domain such as example.com or *.example.com (no "@", no "*" alone: leave the variable unset to admit everyone)` });
    }
    return domain;
  }));

/** Comma-separated group names (or ids); a name that holds a comma cannot be listed. */
export const groups = optional.transform((value) => (value ? [...new Set(list(value))] : []));

/** Empty or unset: `groups`. Dots may walk into nested claims (lib/access-rules.ts `claimAt`). */
export const groupsClaim = optional.transform((v) => v ?? 'groups');
