/**
 * How many sessions Redis holds, for `gatehouse_sessions_active`. Redis has no count of keys by
 * pattern, so this walks the keyspace with SCAN (on every master of a Cluster): it costs one pass
 * over all keys per scrape, in batches that never block Redis, and may count a key twice while
 * Redis resizes its tables. Every replica reports the same fleet-wide figure.
 */
import { Cluster } from 'ioredis';
import { whenReady, type RedisClient } from '../redis';
import { redisKeys } from './redis-store';

const BATCH = 1000;

export async function countRedisSessions(redis: RedisClient): Promise<number> {
  await whenReady(redis);
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  let total = 0;
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', redisKeys.session('*'), 'COUNT', BATCH);
      total += keys.length;
      cursor = next;
    } while (cursor !== '0');
  }
  return total;
}
