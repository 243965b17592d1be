/**
 * The only reader of `process.env` (SPEC §2). Parsed once with zod; a bad value stops startup with
 * a message naming the variable. Everything else receives the typed `Config`.
 *
 * This entry composes modules with one concern each, which read nothing themselves: identity
 * providers (config-providers.ts), Redis (config-redis.ts), single sign-on (config-sso.ts),
 * access rules (access-rules-config.ts), traces (tracing-config.ts), value parsers (config-values.ts).
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { boolean, duration, hostPorts, httpUrl, list, optional, parseUpstreams, type HostPort, type UpstreamRoute } from './config-values';
import { isLoopbackHost, loadIdentityProviders, redactedProvider, type IdentityProvider } from './config-providers';
import { hasRedisTopology, redactedRedis, redisConfig, redisTopologyProblems, redisVariables, type RedisConfig } from './config-redis';
import { redactedSso, ssoConfig, ssoVariables, type SsoConfig } from './config-sso';

export { isLoopbackHost } from './config-providers';
export type { ClientAuthMethod, IdentityProvider, OidcClientConfig, ProviderPreset } from './config-providers';
export type { RedisAccess, RedisConfig } from './config-redis';
export { isOnDomain, type SsoConfig } from './config-sso';

import { parseByteSize, parseDuration } from './duration';
import type { AccessRules } from './access-rules';
import * as accessValues from './access-rules-config';
import { redactedTracing, tracingConfig, type TracingConfig } from './tracing-config';

export type { HostPort, UpstreamRoute } from './config-values';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** `LOG_FORMAT`: JSON lines, or readable ones through pino-pretty (a devDependency: `npm run dev`). */
export type LogFormat = 'json' | 'text';

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
  ...redisVariables,
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
  ...ssoVariables,
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

  redisTopologyProblems(v, problems);
  const sso = ssoConfig(v, { ingresses: v.INGRESS, upstreamCount: v.UPSTREAMS.length, hasRedis: hasRedisTopology(v), rawSecret: env.SESSION_SECRET }, problems);
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
    sso: config.sso && redactedSso(config.sso),
  };
}

const CONFIG_KEY = Symbol.for('gatehouse.config');
type Holder = { [CONFIG_KEY]?: Config };

/** The process-wide config, parsed on first use (Next bundles modules separately: see STYLE rule 8). */
export function getConfig(): Config {
  const holder = globalThis as Holder;
  return (holder[CONFIG_KEY] ??= loadConfig(process.env));
}
