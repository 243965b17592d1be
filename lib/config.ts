/**
 * The only reader of `process.env` (SPEC §2). Parsed once with zod; a bad value stops startup with
 * a message naming the variable. Everything else receives the typed `Config`.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { boolean, duration, hostPorts, httpUrl, list, optional, parseUpstreams, type HostPort, type UpstreamRoute } from './config-values';
import { isLoopbackHost, loadIdentityProviders, redactedProvider, type IdentityProvider } from './config-providers';

export { isLoopbackHost } from './config-providers';
export type { ClientAuthMethod, IdentityProvider, OidcClientConfig, ProviderPreset } from './config-providers';

export type { HostPort, UpstreamRoute } from './config-values';
import { parseByteSize, parseDuration } from './duration';
import type { AccessRules } from './access-rules';
import * as accessValues from './access-rules-config';
import { redactedTracing, tracingConfig, type TracingConfig } from './tracing-config';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** `LOG_FORMAT`: JSON lines, or readable ones through pino-pretty (a devDependency: `npm run dev`). */
export type LogFormat = 'json' | 'text';
/** Credentials and TLS, the same for every Redis node of any topology (SPEC §2); keys only when set. */
export interface RedisAccess {
  username?: string;
  password?: string;
  /** TLS to every node (and to the Sentinels); `ca` is the PEM bundle read from `caFile`, else the system CAs. */
  tls?: { ca?: string; caFile?: string };
}
export type RedisConfig = RedisAccess & (
  /** `url` without credentials: they are in `username`/`password`. */
  | { kind: 'standalone'; url: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; sentinelPassword?: string }
  | { kind: 'cluster'; nodes: HostPort[] });
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

export interface Config {
  production: boolean;
  /** Listener of the server (SPEC §2 `PORT`, `HOSTNAME`); no hostname = all interfaces. */
  listen: { port: number; hostname?: string };
  /** Public base URLs; the first is used to build absolute URLs (redirect URI, logout callback). */
  ingresses: URL[];
  /**
   * The OpenID Providers (SPEC §12): one from the plain `OIDC_*` variables (id `default`), or one
   * per `IDENTITY_PROVIDERS` entry, in that order (lib/config-providers.ts). Empty on an SSO proxy
   * (SPEC §8), which is no OIDC client; never empty otherwise.
   */
  providers: IdentityProvider[];
  session: {
    /** First seals, all unseal (rotation). */
    secrets: string[];
    maxLifetimeMs: number;
    inactivityTimeoutMs: number | null;
    refreshBeforeMs: number;
  };
  redis: RedisConfig | null;
  upstreams: UpstreamRoute[];
  upstreamMaxBody: number;
  upstreamTimeoutMs: number;
  /** Pooled connections per upstream origin; a request waiting for one longer than the timeout gets 504. */
  upstreamMaxConnections: number;
  autoLogin: boolean;
  autoLoginIgnorePaths: string[];
  errorPath?: string;
  cookiePrefix: string;
  /** `Secure` cookies unless every ingress is plain http on a loopback host (SPEC §5). */
  cookieSecure: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** `ACCESS_LOG`: one log line per request (SPEC §11). */
  accessLog: boolean;
  metricsAddress: HostPort | null;
  /** On SIGTERM (SPEC §2 `SHUTDOWN_WAIT`, `SHUTDOWN_GRACE`): serve on for `waitMs` while readiness fails, then let in-flight requests finish for up to `graceMs`. */
  shutdown: { waitMs: number; graceMs: number };
  sso: SsoConfig | null;
  // --- Access rules and identity headers (SPEC §2, §4 item 5, §12) ---
  /** `ALLOWED_EMAIL_DOMAINS`, `ALLOWED_GROUPS`, `GROUPS_CLAIM` (lib/access-rules.ts). */
  access: AccessRules;
  /** `UPSTREAM_IDENTITY_HEADERS`: `X-Auth-Request-*` from the session's claims toward upstreams and in forward-auth answers. */
  identityHeaders: boolean;
  /** OpenTelemetry traces (SPEC §11); `null` = off. The SDK reads the other OTEL_* itself: lib/tracing-config.ts. */
  tracing: TracingConfig | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const DEV_DEFAULTS = {
  INGRESS: 'http://localhost:3000',
};

const schema = z.object({
  NODE_ENV: z.string().optional(),
  PORT: z.string().trim().default('3000').refine((v) => /^\d{1,5}$/.test(v) && Number(v) <= 65535, 'must be a port number (0-65535)').transform(Number),
  HOSTNAME: optional,
  INGRESS: z.string().transform((value, ctx) => {
    const urls = list(value).map((entry) => httpUrl(entry, ctx, 'each ingress'));
    if (urls.length === 0) ctx.addIssue({ code: 'custom', message: 'at least one URL is required' });
    return urls.filter((u): u is URL => u !== null);
  }),
  SESSION_SECRET: z.string().transform((value, ctx) => {
    const secrets = list(value);
    if (secrets.length === 0) ctx.addIssue({ code: 'custom', message: 'is required' });
    if (secrets.some((s) => s.length < 32)) ctx.addIssue({ code: 'custom', message: 'each secret must be at least 32 characters' });
    return secrets;
  }),
  SESSION_MAX_LIFETIME: duration('10h'),
  SESSION_INACTIVITY_TIMEOUT: optional.transform((value, ctx) => {
    if (!value || ['off', 'false', '0'].includes(value)) return null;
    const ms = parseDuration(value);
    if (ms === null || ms <= 0) ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration (use e.g. 30m, or "off")` });
    return ms;
  }),
  SESSION_REFRESH_BEFORE: duration('30s'),
  REDIS_URL: optional.refine((v) => !v || /^rediss?:\/\//.test(v), 'must start with redis:// or rediss://'),
  REDIS_SENTINELS: optional.transform((v, ctx) => (v ? hostPorts(v, ctx) : undefined)),
  REDIS_SENTINEL_NAME: optional,
  REDIS_CLUSTER_NODES: optional.transform((v, ctx) => (v ? hostPorts(v, ctx) : undefined)),
  REDIS_USERNAME: optional,
  REDIS_PASSWORD: optional,
  REDIS_SENTINEL_PASSWORD: optional,
  REDIS_TLS: optional.transform((v, ctx) => {
    if (v === undefined) return undefined; // unset: TLS only for a rediss:// URL
    const parsed = boolean.safeParse(v);
    if (!parsed.success) ctx.addIssue({ code: 'custom', message: `"${v}" is not true or false` });
    return parsed.data;
  }),
  // Read once at startup: a typo in the path must stop the start, not fail every connection later.
  REDIS_CA_FILE: optional.transform((file, ctx) => {
    if (!file) return undefined;
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `cannot read "${file}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
      return z.NEVER;
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) ctx.addIssue({ code: 'custom', message: `"${file}" holds no PEM certificate` });
    return { file, pem };
  }),
  UPSTREAMS: optional.transform((value, ctx) => (value ? parseUpstreams(value, ctx) : [])),
  UPSTREAM_MAX_BODY: z.string().default('10MB').transform((value, ctx) => {
    const bytes = parseByteSize(value);
    if (bytes === null) ctx.addIssue({ code: 'custom', message: `"${value}" is not a size (use e.g. 10MB or 1048576)` });
    return bytes ?? 0;
  }),
  UPSTREAM_TIMEOUT: duration('30s'),
  UPSTREAM_MAX_CONNECTIONS: z.string().default('512').refine((v) => /^[1-9]\d{0,5}$/.test(v), 'must be a whole number from 1 to 999999').transform(Number),
  AUTO_LOGIN: boolean,
  AUTO_LOGIN_IGNORE_PATHS: optional.transform((v, ctx) =>
    (v ? list(v) : []).map((glob) => {
      if (!glob.startsWith('/')) ctx.addIssue({ code: 'custom', message: `"${glob}" must start with /` });
      return glob;
    })),
  ERROR_PATH: optional
    .refine((v) => !v || (/^\/(?![/\\])/.test(v) && !/[\s?#]/.test(v)), 'must be a relative path such as /error')
    .transform((v) => (v && v.length > 1 ? v.replace(/\/+$/, '') : v)),
  COOKIE_PREFIX: z.string().trim().default('gatehouse').refine((v) => /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(v), 'may hold only letters, digits, "-", "_" and "."'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  LOG_FORMAT: z.enum(['json', 'text']).default('json'),
  ACCESS_LOG: boolean,
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
  METRICS_ADDRESS: z.string().default('127.0.0.1:3001').transform((v, ctx) => (v.trim() ? hostPorts(v, ctx)[0] ?? null : null)),
  SHUTDOWN_WAIT: duration('5s', { allowZero: true }),
  SHUTDOWN_GRACE: duration('20s', { allowZero: true }),
  // --- Access rules and identity headers (lib/access-rules-config.ts) ---
  ALLOWED_EMAIL_DOMAINS: accessValues.emailDomains,
  ALLOWED_GROUPS: accessValues.groups,
  GROUPS_CLAIM: accessValues.groupsClaim,
  UPSTREAM_IDENTITY_HEADERS: boolean,
});

/** Parses an environment into a `Config`; throws `ConfigError` listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const production = env.NODE_ENV === 'production';
  const withDefaults: Record<string, string | undefined> = { ...env };
  const problems: string[] = [];
  // SPEC §8: an SSO proxy never talks to the IdP (the server does), so it needs no OIDC_*.
  const ssoProxy = env.SSO_MODE?.trim() === 'proxy';
  for (const [name, fallback] of Object.entries(DEV_DEFAULTS)) {
    if (!withDefaults[name]?.trim()) {
      if (production) problems.push(`${name}: is required in production`);
      else withDefaults[name] = fallback;
    }
  }
  // ── Identity providers (SPEC §2 OIDC_*, §12 IDENTITY_PROVIDERS): lib/config-providers.ts ──
  // SPEC §8: an SSO proxy is no OIDC client (its server is), so it has no providers at all.
  const identity = ssoProxy ? { providers: [], problems: [] } : loadIdentityProviders(env, { production });
  problems.push(...identity.problems);
  if (!withDefaults.SESSION_SECRET?.trim()) {
    if (production) problems.push('SESSION_SECRET: is required in production (at least 32 characters)');
    else withDefaults.SESSION_SECRET = randomBytes(32).toString('base64url');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const parsed = schema.safeParse(withDefaults);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${String(issue.path[0] ?? 'config')}: ${issue.message}`));
  }
  const v = parsed.data;

  if (v.REDIS_SENTINELS && !v.REDIS_SENTINEL_NAME) problems.push('REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS');
  const redisChoices = [v.REDIS_URL, v.REDIS_SENTINELS, v.REDIS_CLUSTER_NODES].filter(Boolean).length;
  if (redisChoices > 1) problems.push('REDIS_URL: set only one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES');
  const sso = ssoConfig(v, redisChoices > 0, env.SESSION_SECRET, problems);
  const tracing = tracingConfig(env, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const redis = redisConfig(v, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    production,
    listen: { port: v.PORT, hostname: v.HOSTNAME },
    ingresses: v.INGRESS,
    providers: identity.providers,
    session: {
      secrets: v.SESSION_SECRET,
      maxLifetimeMs: v.SESSION_MAX_LIFETIME,
      inactivityTimeoutMs: v.SESSION_INACTIVITY_TIMEOUT,
      refreshBeforeMs: v.SESSION_REFRESH_BEFORE,
    },
    redis,
    upstreams: v.UPSTREAMS,
    upstreamMaxBody: v.UPSTREAM_MAX_BODY,
    upstreamTimeoutMs: v.UPSTREAM_TIMEOUT,
    upstreamMaxConnections: v.UPSTREAM_MAX_CONNECTIONS,
    autoLogin: v.AUTO_LOGIN,
    autoLoginIgnorePaths: v.AUTO_LOGIN_IGNORE_PATHS,
    errorPath: v.ERROR_PATH,
    cookiePrefix: v.COOKIE_PREFIX,
    cookieSecure: !v.INGRESS.every((u) => u.protocol === 'http:' && isLoopbackHost(u.hostname)),
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    accessLog: v.ACCESS_LOG,
    metricsAddress: v.METRICS_ADDRESS,
    shutdown: { waitMs: v.SHUTDOWN_WAIT, graceMs: v.SHUTDOWN_GRACE },
    sso,
    access: { emailDomains: v.ALLOWED_EMAIL_DOMAINS, groups: v.ALLOWED_GROUPS, groupsClaim: v.GROUPS_CLAIM },
    identityHeaders: v.UPSTREAM_IDENTITY_HEADERS,
    tracing,
  };
}

/** True when `hostname` is `domain` or one of its subdomains (a label boundary, never a suffix match). */
export const isOnDomain = (hostname: string, domain: string) => {
  const host = hostname.toLowerCase();
  return host === domain || host.endsWith(`.${domain}`);
};

type Parsed = z.infer<typeof schema>;

/** The Redis topology with its credentials and TLS (SPEC §2); cross-field problems name their variable. */
function redisConfig(v: Parsed, problems: string[]): RedisConfig | null {
  const access: RedisAccess = {};
  let url = v.REDIS_URL;
  if (url) {
    // Credentials move out of the URL so there is one place for them (and none in a logged URL).
    try {
      const parsed = new URL(url);
      const [user, pass] = [decodeURIComponent(parsed.username), decodeURIComponent(parsed.password)];
      if (user && v.REDIS_USERNAME) problems.push('REDIS_USERNAME: REDIS_URL carries a user name already; set only one of them');
      if (pass && v.REDIS_PASSWORD) problems.push('REDIS_PASSWORD: REDIS_URL carries a password already; set only one of them');
      if (user) access.username = user;
      if (pass) access.password = pass;
      if (user || pass) url = Object.assign(parsed, { username: '', password: '' }).href;
    } catch {
      problems.push('REDIS_URL: is not a valid URL (percent-encode special characters in the password)');
    }
  }
  const rediss = /^rediss:/i.test(v.REDIS_URL ?? '');
  if (v.REDIS_USERNAME) access.username = v.REDIS_USERNAME;
  if (v.REDIS_PASSWORD) access.password = v.REDIS_PASSWORD;
  if (v.REDIS_TLS === false && rediss) problems.push('REDIS_TLS: is false, but REDIS_URL is a rediss:// (TLS) URL');
  const tls = v.REDIS_TLS ?? rediss;
  if (tls) access.tls = v.REDIS_CA_FILE ? { ca: v.REDIS_CA_FILE.pem, caFile: v.REDIS_CA_FILE.file } : {};
  else if (v.REDIS_CA_FILE) problems.push('REDIS_CA_FILE: is only used with TLS (REDIS_TLS=true or a rediss:// REDIS_URL)');
  if (access.username && !access.password) problems.push('REDIS_USERNAME: needs REDIS_PASSWORD (or a password in REDIS_URL)');
  if (v.REDIS_SENTINEL_PASSWORD && !v.REDIS_SENTINELS) problems.push('REDIS_SENTINEL_PASSWORD: is only used with REDIS_SENTINELS');

  if (url) return { kind: 'standalone', url, ...access };
  if (v.REDIS_SENTINELS) {
    const sentinel = v.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: v.REDIS_SENTINEL_PASSWORD } : {};
    return { kind: 'sentinel', sentinels: v.REDIS_SENTINELS, name: v.REDIS_SENTINEL_NAME!, ...sentinel, ...access };
  }
  if (v.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: v.REDIS_CLUSTER_NODES, ...access };
  for (const name of ['REDIS_USERNAME', 'REDIS_PASSWORD', 'REDIS_TLS', 'REDIS_CA_FILE'] as const) {
    if (v[name]) problems.push(`${name}: is only used with REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES`);
  }
  return null;
}

/** SPEC §8 cross-field rules; every problem names its variable. */
function ssoConfig(v: Parsed, hasRedis: boolean, rawSecret: string | undefined, problems: string[]): SsoConfig | null {
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
    if (v.UPSTREAMS.length > 0) problems.push('UPSTREAMS: must be empty with SSO_MODE=server (the SSO server forwards nothing; run SSO_MODE=proxy next to each application)');
    if (v.SSO_SERVER_URL) problems.push('SSO_SERVER_URL: is only used with SSO_MODE=proxy');
    if (!hasRedis) problems.push('REDIS_URL: SSO_MODE=server needs Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES), shared with its proxies');
    const allowHttp = v.INGRESS.some((u) => u.protocol === 'http:');
    const target = v.SSO_DEFAULT_REDIRECT_URL;
    if (target && v.SSO_DOMAIN && (!isOnDomain(target.hostname, v.SSO_DOMAIN) || (target.protocol === 'http:' && !allowHttp) || target.username || target.password)) {
      problems.push(`SSO_DEFAULT_REDIRECT_URL: must be an ${allowHttp ? 'http(s)' : 'https'} URL on SSO_DOMAIN (${v.SSO_DOMAIN}) or a subdomain`);
    }
    return { mode, domain: v.SSO_DOMAIN ?? '', sessionCookieName: v.SSO_SESSION_COOKIE_NAME ?? '', defaultRedirectUrl: target, allowHttp };
  }
  if (!v.SSO_SERVER_URL) problems.push('SSO_SERVER_URL: is required with SSO_MODE=proxy');
  if (!hasRedis) problems.push('REDIS_URL: SSO_MODE=proxy needs the SSO server\'s Redis (REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES)');
  if (!rawSecret?.trim()) problems.push('SESSION_SECRET: SSO_MODE=proxy needs the SSO server\'s SESSION_SECRET');
  for (const name of ['SSO_DOMAIN', 'SSO_DEFAULT_REDIRECT_URL'] as const) {
    if (v[name]) problems.push(`${name}: is only used with SSO_MODE=server`);
  }
  return { mode, serverUrl: v.SSO_SERVER_URL ?? new URL('http://invalid'), sessionCookieName: v.SSO_SESSION_COOKIE_NAME ?? '' };
}

/** Config with secrets replaced, for the one startup log line. */
export function redactedConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    ingresses: config.ingresses.map(String),
    providers: config.providers.map(redactedProvider),
    session: { ...config.session, secrets: `[${config.session.secrets.length} redacted]` },
    redis: config.redis && redactedRedis(config.redis),
    upstreams: config.upstreams.map((r) => `${r.prefix}=${r.target}`),
    tracing: config.tracing && redactedTracing(config.tracing),
    sso: config.sso && { ...config.sso, ...('serverUrl' in config.sso ? { serverUrl: String(config.sso.serverUrl) } : { defaultRedirectUrl: config.sso.defaultRedirectUrl && String(config.sso.defaultRedirectUrl) }) },
  };
}

/** Redis settings without passwords or the CA's PEM text (its file name says enough). */
function redactedRedis(redis: RedisConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...redis };
  if (redis.kind === 'standalone') out.url = redis.url.replace(/\/\/[^@/]*@/, '//[redacted]@'); // never expected: loadConfig strips them
  if (redis.password) out.password = '[redacted]';
  if (redis.kind === 'sentinel' && redis.sentinelPassword) out.sentinelPassword = '[redacted]';
  if (redis.tls) out.tls = { caFile: redis.tls.caFile ?? null };
  return out;
}

const CONFIG_KEY = Symbol.for('gatehouse.config');
type Holder = { [CONFIG_KEY]?: Config };

/** The process-wide config, parsed on first use (Next bundles modules separately: see STYLE rule 8). */
export function getConfig(): Config {
  const holder = globalThis as Holder;
  return (holder[CONFIG_KEY] ??= loadConfig(process.env));
}
