/**
 * The single sign-on settings of the configuration (SPEC §8 `SSO_*`): an SSO server or an SSO
 * proxy, their cross-field rules, and their form in the startup log. Pure: lib/config.ts hands in
 * the variables it read, and every problem names its variable.
 */
import { z } from 'zod';
import { httpUrl, optional } from './config-values';

/** SPEC §8: single sign-on. `null` is the standalone relying party. */
export type SsoConfig =
  | {
      mode: 'server';
      /** Cookie domain; absolute redirects and CORS origins must be this host or below it. */
      domain: string;
      sessionCookieName: string;
      /** Where login and logout land without a `redirect`; the ingress path when unset. */
      defaultRedirectUrl?: URL;
      /** Plain http redirects and origins on the domain are accepted only when an ingress is plain http. */
      allowHttp: boolean;
    }
  | { mode: 'proxy'; serverUrl: URL; sessionCookieName: string };

/** True when `hostname` is `domain` or one of its subdomains (a label boundary, never a suffix match). */
export const isOnDomain = (hostname: string, domain: string) => {
  const host = hostname.toLowerCase();
  return host === domain || host.endsWith(`.${domain}`);
};

/** The `SSO_*` variables, for lib/config.ts's schema. */
export const ssoVariables = {
  SSO_MODE: optional.pipe(z.enum(['server', 'proxy']).optional()),
  SSO_DOMAIN: optional.transform((v, ctx) => {
    if (!v) return undefined;
    const domain = v.toLowerCase().replace(/^\./, '');
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(domain)) ctx.addIssue({ code: 'custom', message: `"${v}" is not a domain name such as example.com` });
    return domain;
  }),
  SSO_SERVER_URL: optional.transform((v, ctx) => (v ? httpUrl(v, ctx, 'the SSO server URL') ?? undefined : undefined)),
  SSO_DEFAULT_REDIRECT_URL: optional.transform((v, ctx) => {
    if (!v) return undefined;
    try {
      const url = new URL(v);
      if (url.protocol === 'http:' || url.protocol === 'https:') return url;
    } catch { /* reported below */ }
    ctx.addIssue({ code: 'custom', message: `"${v}" is not an absolute http(s) URL` });
    return undefined;
  }),
  SSO_SESSION_COOKIE_NAME: optional.refine((v) => !v || /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(v), 'may hold only letters, digits, "-", "_" and "."'),
};

export type SsoVariables = z.infer<z.ZodObject<typeof ssoVariables>>;

/** What the SSO rules need to know of the rest of the configuration. */
export interface SsoContext {
  ingresses: URL[];
  upstreamCount: number;
  hasRedis: boolean;
  /** `SESSION_SECRET` as given, before a development default is made up. */
  rawSecret: string | undefined;
}

/** SPEC §8 cross-field rules; every problem names its variable. */
export function ssoConfig(v: SsoVariables, c: SsoContext, problems: string[]): SsoConfig | null {
  const mode = v.SSO_MODE;
  if (!mode) {
    for (const name of ['SSO_DOMAIN', 'SSO_SERVER_URL', 'SSO_DEFAULT_REDIRECT_URL', 'SSO_SESSION_COOKIE_NAME'] as const) {
      if (v[name]) problems.push(`${name}: is only used with SSO_MODE=server or SSO_MODE=proxy`);
    }
    return null;
  }
  if (!v.SSO_SESSION_COOKIE_NAME) problems.push(`SSO_SESSION_COOKIE_NAME: is required with SSO_MODE=${mode}`);
  if (mode === 'server') {
    if (!v.SSO_DOMAIN) problems.push('SSO_DOMAIN: is required with SSO_MODE=server');
    if (c.upstreamCount > 0) problems.push('UPSTREAMS: must be empty with SSO_MODE=server (the SSO server forwards nothing; run SSO_MODE=proxy next to each application)');
    if (v.SSO_SERVER_URL) problems.push('SSO_SERVER_URL: is only used with SSO_MODE=proxy');
    if (!c.hasRedis) problems.push('REDIS_URL: SSO_MODE=server needs Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES), shared with its proxies');
    const allowHttp = c.ingresses.some((u) => u.protocol === 'http:');
    const target = v.SSO_DEFAULT_REDIRECT_URL;
    if (target && v.SSO_DOMAIN && (!isOnDomain(target.hostname, v.SSO_DOMAIN) || (target.protocol === 'http:' && !allowHttp) || target.username || target.password)) {
      problems.push(`SSO_DEFAULT_REDIRECT_URL: must be an ${allowHttp ? 'http(s)' : 'https'} URL on SSO_DOMAIN (${v.SSO_DOMAIN}) or a subdomain`);
    }
    return { mode, domain: v.SSO_DOMAIN ?? '', sessionCookieName: v.SSO_SESSION_COOKIE_NAME ?? '', defaultRedirectUrl: target, allowHttp };
  }
  if (!v.SSO_SERVER_URL) problems.push('SSO_SERVER_URL: is required with SSO_MODE=proxy');
  if (!c.hasRedis) problems.push('REDIS_URL: SSO_MODE=proxy needs the SSO server\'s Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)');
  if (!c.rawSecret?.trim()) problems.push('SESSION_SECRET: SSO_MODE=proxy needs the SSO server\'s SESSION_SECRET');
  for (const name of ['SSO_DOMAIN', 'SSO_DEFAULT_REDIRECT_URL'] as const) {
    if (v[name]) problems.push(`${name}: is only used with SSO_MODE=server`);
  }
  return { mode, serverUrl: v.SSO_SERVER_URL ?? new URL('http://invalid'), sessionCookieName: v.SSO_SESSION_COOKIE_NAME ?? '' };
}

/** The SSO settings with their URLs as text, for the startup log line (nothing in them is secret). */
export const redactedSso = (sso: SsoConfig): Record<string, unknown> =>
  sso.mode === 'proxy'
    ? { ...sso, serverUrl: String(sso.serverUrl) }
    : { ...sso, defaultRedirectUrl: sso.defaultRedirectUrl && String(sso.defaultRedirectUrl) };
