/**
 * The shared Redis client (standalone, Sentinel or Cluster), tuned to fail fast: a dead Redis must
 * cost milliseconds, a frozen one at most `COMMAND_TIMEOUT_MS` (SPEC §5 "Redis unavailable").
 * ioredis' defaults would queue commands and retry for over a minute. Credentials and TLS
 * (SPEC §2 `REDIS_USERNAME` … `REDIS_CA_FILE`) apply to every node of every topology.
 */
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisAccess, RedisConfig } from './config';
import { log } from './log';

export type RedisClient = Redis | Cluster;

/** Only `commandTimeout` catches a server that accepts bytes but never answers (SIGSTOP). */
const COMMAND_TIMEOUT_MS = 400;
const CONNECT_TIMEOUT_MS = 1_000;

const reconnectDelay = (attempt: number) => Math.min(100 * attempt, 2_000);

const fastFail: RedisOptions = {
  commandTimeout: COMMAND_TIMEOUT_MS,
  connectTimeout: CONNECT_TIMEOUT_MS,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  lazyConnect: true,
};

const STARTING = new Set(['wait', 'connecting', 'connect']);

/**
 * Waits briefly while a connection attempt is under way: with the offline queue off, a command
 * sent in the milliseconds before 'ready' would fail although Redis is fine. During an outage the
 * client is 'reconnecting' between attempts and this returns at once.
 */
export async function whenReady(client: RedisClient, timeoutMs = COMMAND_TIMEOUT_MS): Promise<void> {
  if (!STARTING.has(client.status)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('end', done);
      client.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    client.once('ready', done);
    client.once('end', done);
    client.once('error', done);
  });
}

/** TLS options for ioredis: the private CA when one is configured, else Node's system CAs. */
const tlsOptions = (access: RedisAccess): ConnectionOptions | undefined => (access.tls ? (access.tls.ca ? { ca: access.tls.ca } : {}) : undefined);

/** Username, password and TLS of a data node, as ioredis options (only the keys that are set). */
function nodeAccess(access: RedisAccess): Pick<RedisOptions, 'username' | 'password' | 'tls'> {
  const tls = tlsOptions(access);
  return {
    ...(access.username ? { username: access.username } : {}),
    ...(access.password ? { password: access.password } : {}),
    ...(tls ? { tls } : {}),
  };
}

/** Redis answers these when the credentials are wrong or missing. */
const AUTH_ERROR = /\b(WRONGPASS|NOAUTH)\b|invalid password|invalid username-password/i;

/** What to check when `message` is an authentication failure: the Sentinels' own password or the data nodes'. */
function authHint(message: string): string | undefined {
  if (!AUTH_ERROR.test(message)) return undefined;
  return /^All sentinels are unreachable/.test(message)
    ? 'authentication failed at the Sentinels: check REDIS_SENTINEL_PASSWORD'
    : 'authentication failed: check REDIS_USERNAME and REDIS_PASSWORD';
}

export function createRedisClient(config: RedisConfig): RedisClient {
  let client: RedisClient;
  const tls = tlsOptions(config);
  switch (config.kind) {
    case 'standalone':
      // The URL carries no credentials (config moved them out), so these options are the only ones.
      client = new Redis(config.url, { ...fastFail, ...nodeAccess(config), retryStrategy: reconnectDelay });
      break;
    case 'sentinel':
      client = new Redis({
        ...fastFail,
        ...nodeAccess(config),
        sentinels: config.sentinels,
        name: config.name,
        // The Sentinels have a password of their own (REDIS_SENTINEL_PASSWORD) and speak TLS when the data nodes do.
        ...(config.sentinelPassword ? { sentinelPassword: config.sentinelPassword } : {}),
        ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
        retryStrategy: reconnectDelay,
        sentinelRetryStrategy: reconnectDelay,
        // Follow a failover as soon as the sentinels announce it, not when the old master demotes
        // itself seconds later: writes in between would land on a master about to be wiped.
        failoverDetector: true,
      });
      break;
    case 'cluster':
      client = new Cluster(config.nodes, {
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: reconnectDelay,
        slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
        redisOptions: { commandTimeout: COMMAND_TIMEOUT_MS, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 1, ...nodeAccess(config) },
      });
      break;
  }
  // Without a listener ioredis reports every failed reconnect as an unhandled error. Logged once
  // per distinct error (retry delays in the message do not make it a new one).
  let lastError = '';
  client.on('error', (error: Error) => {
    // A cluster that cannot load its slots says only that; the node's own answer is the cause.
    const cause = (error as { lastNodeError?: Error | null }).lastNodeError ?? undefined;
    const seen = `${error.message} ${cause?.message ?? ''}`.replace(/\d+ms\b/g, '');
    if (seen !== lastError) {
      // ioredis' messages never hold the password; the hint says which variables to check.
      const reason = authHint(error.message) ?? (cause && authHint(cause.message));
      log.warn('redis error', { error, ...(cause ? { cause } : {}), ...(reason ? { reason } : {}) });
    }
    lastError = seen;
  });
  client.on('ready', () => {
    if (lastError) log.info('redis ready again');
    lastError = '';
  });
  client.connect().catch(() => undefined); // failures surface through 'error' and retries
  return client;
}
