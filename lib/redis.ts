/**
 * The shared Redis client (standalone, Sentinel or Cluster), tuned to fail fast: a dead Redis must
 * cost milliseconds, a frozen one at most `COMMAND_TIMEOUT_MS` (SPEC §5 "Redis unavailable").
 * ioredis' defaults would queue commands and retry for over a minute.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from './config';
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

export function createRedisClient(config: RedisConfig): RedisClient {
  let client: RedisClient;
  switch (config.kind) {
    case 'standalone':
      client = new Redis(config.url, { ...fastFail, retryStrategy: reconnectDelay });
      break;
    case 'sentinel':
      client = new Redis({
        ...fastFail,
        sentinels: config.sentinels,
        name: config.name,
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
        redisOptions: { commandTimeout: COMMAND_TIMEOUT_MS, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 1 },
      });
      break;
  }
  // Without a listener ioredis reports every failed reconnect as an unhandled error.
  let lastError = '';
  client.on('error', (error: Error) => {
    if (error.message !== lastError) log.warn('redis error', { error });
    lastError = error.message;
  });
  client.on('ready', () => {
    if (lastError) log.info('redis ready again');
    lastError = '';
  });
  client.connect().catch(() => undefined); // failures surface through 'error' and retries
  return client;
}
