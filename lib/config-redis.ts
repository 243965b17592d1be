/**
 * The Redis settings of the configuration (SPEC §2 `REDIS_*`): which topology (one server, a
 * Sentinel group or a Cluster), its credentials and TLS, and their redaction for the startup log.
 * Pure: lib/config.ts hands in the variables it read, and every problem names its variable.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { boolean, hostPorts, optional, type HostPort } from './config-values';

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

/** The `REDIS_*` variables, for lib/config.ts's schema. */
export const redisVariables = {
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
};

export type RedisVariables = z.infer<z.ZodObject<typeof redisVariables>>;

/** Whether any topology is configured: SSO modes need Redis (lib/config-sso.ts). */
export const hasRedisTopology = (v: RedisVariables) => [v.REDIS_URL, v.REDIS_SENTINELS, v.REDIS_CLUSTER_NODES].some(Boolean);

/** Problems that make the topology itself ambiguous or incomplete. */
export function redisTopologyProblems(v: RedisVariables, problems: string[]): void {
  if (v.REDIS_SENTINELS && !v.REDIS_SENTINEL_NAME) problems.push('REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS');
  const choices = [v.REDIS_URL, v.REDIS_SENTINELS, v.REDIS_CLUSTER_NODES].filter(Boolean).length;
  if (choices > 1) problems.push('REDIS_URL: set only one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES');
}

/** The Redis topology with its credentials and TLS (SPEC §2); cross-field problems name their variable. */
export function redisConfig(v: RedisVariables, problems: string[]): RedisConfig | null {
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

/** Redis settings without passwords or the CA's PEM text (its file name says enough). */
export function redactedRedis(redis: RedisConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...redis };
  if (redis.kind === 'standalone') out.url = redis.url.replace(/\/\/[^@/]*@/, '//[redacted]@'); // never expected: loadConfig strips them
  if (redis.password) out.password = '[redacted]';
  if (redis.kind === 'sentinel' && redis.sentinelPassword) out.sentinelPassword = '[redacted]';
  if (redis.tls) out.tls = { caFile: redis.tls.caFile ?? null };
  return out;
}
