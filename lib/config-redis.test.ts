/**
 * SPEC §2 Redis credentials and TLS: `REDIS_USERNAME`, `REDIS_PASSWORD` (or a password in
 * `REDIS_URL`), `REDIS_SENTINEL_PASSWORD`, `REDIS_TLS`, `REDIS_CA_FILE`, for every topology; bad
 * values name their variable; the startup config dump never shows a password.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { configProblems, PRODUCTION_ENV } from '../test/harness/config-env';
import { makeTlsFiles, type TlsFiles } from '../test/harness/redis-tls';
import { loadConfig, redactedConfig } from './config';

const production = PRODUCTION_ENV;
const SENTINELS = { REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379', REDIS_SENTINEL_NAME: 'mymaster' };
const CLUSTER = { REDIS_CLUSTER_NODES: '10.0.0.1:7000,10.0.0.2:7000' };
const PASSWORD = 'data-pw-Zq7#x';
const SENTINEL_PASSWORD = 'sentinel-pw-Kp2!y';

const redisOf = (env: Record<string, string | undefined>) => loadConfig({ ...production, ...env }).redis;

const problems = (env: Record<string, string | undefined>) => configProblems({ ...production, ...env });

let tls: TlsFiles;
let scratch: string;
before(() => {
  tls = makeTlsFiles();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-config-redis-'));
});
after(() => {
  tls?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('config: Redis credentials', () => {
  test('no credential variables: nothing is added to the topology', () => {
    assert.deepEqual(redisOf({ REDIS_URL: 'redis://redis:6379' }), { kind: 'standalone', url: 'redis://redis:6379' });
  });

  test('a password (and user) in REDIS_URL moves out of the URL, percent-decoded', () => {
    assert.deepEqual(redisOf({ REDIS_URL: 'redis://:p%40ss%3Aw0rd@redis:6379/2' }), { kind: 'standalone', url: 'redis://redis:6379/2', password: 'p@ss:w0rd' });
    assert.deepEqual(redisOf({ REDIS_URL: 'redis://gh:pw@redis:6379' }), { kind: 'standalone', url: 'redis://redis:6379', username: 'gh', password: 'pw' });
  });

  test('REDIS_USERNAME and REDIS_PASSWORD for a standalone Redis', () => {
    assert.deepEqual(redisOf({ REDIS_URL: 'redis://redis:6379', REDIS_USERNAME: 'gh', REDIS_PASSWORD: PASSWORD }), {
      kind: 'standalone', url: 'redis://redis:6379', username: 'gh', password: PASSWORD,
    });
  });

  test('a user name in the URL and the password in REDIS_PASSWORD combine', () => {
    assert.deepEqual(redisOf({ REDIS_URL: 'redis://gh@redis:6379', REDIS_PASSWORD: PASSWORD }), {
      kind: 'standalone', url: 'redis://redis:6379', username: 'gh', password: PASSWORD,
    });
  });

  test('Sentinel: the data nodes\' credentials and the Sentinels\' own password', () => {
    assert.deepEqual(redisOf({ ...SENTINELS, REDIS_USERNAME: 'gh', REDIS_PASSWORD: PASSWORD, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD }), {
      kind: 'sentinel',
      sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }],
      name: 'mymaster',
      username: 'gh',
      password: PASSWORD,
      sentinelPassword: SENTINEL_PASSWORD,
    });
  });

  test('Cluster: credentials for every node', () => {
    assert.deepEqual(redisOf({ ...CLUSTER, REDIS_PASSWORD: PASSWORD }), {
      kind: 'cluster', nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }], password: PASSWORD,
    });
  });
});

describe('config: Redis TLS', () => {
  test('off by default, on for a rediss:// URL (system CAs)', () => {
    assert.equal(redisOf({ REDIS_URL: 'redis://redis:6379' })?.tls, undefined);
    assert.deepEqual(redisOf({ REDIS_URL: 'rediss://redis:6380' })?.tls, {});
    assert.deepEqual(redisOf({ REDIS_URL: 'rediss://redis:6380', REDIS_TLS: 'true' })?.tls, {});
  });

  test('REDIS_TLS=true turns it on for every topology', () => {
    for (const env of [{ REDIS_URL: 'redis://redis:6380' }, SENTINELS, CLUSTER]) {
      assert.deepEqual(redisOf({ ...env, REDIS_TLS: 'true' })?.tls, {}, JSON.stringify(env));
      assert.equal(redisOf({ ...env, REDIS_TLS: 'false' })?.tls, undefined, JSON.stringify(env));
    }
  });

  test('REDIS_CA_FILE is read at startup: its PEM goes into the config, with the file name', () => {
    for (const env of [{ REDIS_URL: 'rediss://redis:6380' }, { ...SENTINELS, REDIS_TLS: 'yes' }, { ...CLUSTER, REDIS_TLS: '1' }]) {
      assert.deepEqual(redisOf({ ...env, REDIS_CA_FILE: tls.caFile })?.tls, { ca: tls.ca, caFile: tls.caFile }, JSON.stringify(env));
    }
  });
});

describe('config: bad Redis settings name their variable', () => {
  const missing = () => path.join(scratch, 'no-such-ca.pem');
  const notPem = () => {
    const file = path.join(scratch, 'not-a-cert.txt');
    writeFileSync(file, 'hello\n');
    return file;
  };
  const cases: Array<[string, () => Record<string, string>, string, RegExp?]> = [
    ['REDIS_TLS not a boolean', () => ({ REDIS_URL: 'redis://r:1', REDIS_TLS: 'maybe' }), 'REDIS_TLS', /"maybe" is not true or false/],
    ['REDIS_TLS=false with a rediss:// URL', () => ({ REDIS_URL: 'rediss://r:1', REDIS_TLS: 'false' }), 'REDIS_TLS', /rediss/],
    ['REDIS_CA_FILE that does not exist', () => ({ REDIS_URL: 'rediss://r:1', REDIS_CA_FILE: missing() }), 'REDIS_CA_FILE', /cannot read ".*no-such-ca\.pem" \(ENOENT\)/],
    ['REDIS_CA_FILE that is a directory', () => ({ REDIS_URL: 'rediss://r:1', REDIS_CA_FILE: scratch }), 'REDIS_CA_FILE', /cannot read .*\(EISDIR\)/],
    ['REDIS_CA_FILE without a certificate', () => ({ REDIS_URL: 'rediss://r:1', REDIS_CA_FILE: notPem() }), 'REDIS_CA_FILE', /no PEM certificate/],
    ['REDIS_CA_FILE with TLS off', () => ({ REDIS_URL: 'redis://r:1', REDIS_CA_FILE: tls.caFile }), 'REDIS_CA_FILE', /only used with TLS/],
    ['a password both in REDIS_URL and REDIS_PASSWORD', () => ({ REDIS_URL: 'redis://:a@r:1', REDIS_PASSWORD: 'b' }), 'REDIS_PASSWORD'],
    ['a user both in REDIS_URL and REDIS_USERNAME', () => ({ REDIS_URL: 'redis://u:a@r:1', REDIS_USERNAME: 'v' }), 'REDIS_USERNAME'],
    ['REDIS_USERNAME without a password', () => ({ REDIS_URL: 'redis://r:1', REDIS_USERNAME: 'gh' }), 'REDIS_USERNAME'],
    ['REDIS_URL with a broken percent escape', () => ({ REDIS_URL: 'redis://:%zz@r:1' }), 'REDIS_URL'],
    ['REDIS_SENTINEL_PASSWORD without Sentinel', () => ({ REDIS_URL: 'redis://r:1', REDIS_SENTINEL_PASSWORD: 's' }), 'REDIS_SENTINEL_PASSWORD'],
    ['REDIS_PASSWORD without any Redis', () => ({ REDIS_PASSWORD: 'p' }), 'REDIS_PASSWORD'],
    ['REDIS_TLS=true without any Redis', () => ({ REDIS_TLS: 'true' }), 'REDIS_TLS'],
  ];
  for (const [name, env, variable, message] of cases) {
    test(`refuses ${name}, naming ${variable}`, () => {
      const found = problems(env());
      const mine = found.filter((p) => p.startsWith(`${variable}:`));
      assert.ok(mine.length > 0, `expected a problem for ${variable}, got ${JSON.stringify(found)}`);
      if (message) assert.match(mine.join('\n'), message);
    });
  }

  test('REDIS_TLS=false without any Redis is harmless (a chart may always set it)', () => {
    assert.equal(redisOf({ REDIS_TLS: 'false' }), null);
  });

  test('a problem never quotes the password', () => {
    const found = problems({ REDIS_URL: `redis://:${encodeURIComponent(PASSWORD)}@r:1`, REDIS_PASSWORD: SENTINEL_PASSWORD }).join('\n');
    assert.ok(found.length > 0);
    for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), SENTINEL_PASSWORD]) assert.ok(!found.includes(secret), found);
  });
});

describe('config: the startup dump never shows a Redis password', () => {
  const topologies: Array<[string, () => Record<string, string>]> = [
    ['password in REDIS_URL', () => ({ REDIS_URL: `rediss://gh:${encodeURIComponent(PASSWORD)}@redis:6380/0`, REDIS_CA_FILE: tls.caFile })],
    ['standalone with REDIS_PASSWORD', () => ({ REDIS_URL: 'redis://redis:6379', REDIS_USERNAME: 'gh', REDIS_PASSWORD: PASSWORD })],
    ['Sentinel', () => ({ ...SENTINELS, REDIS_USERNAME: 'gh', REDIS_PASSWORD: PASSWORD, REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD, REDIS_TLS: 'true', REDIS_CA_FILE: tls.caFile })],
    ['Cluster', () => ({ ...CLUSTER, REDIS_USERNAME: 'gh', REDIS_PASSWORD: PASSWORD, REDIS_TLS: 'true', REDIS_CA_FILE: tls.caFile })],
  ];
  for (const [name, envOf] of topologies) {
    test(name, () => {
      const env = envOf();
      const dump = redactedConfig(loadConfig({ ...production, ...env }));
      const text = JSON.stringify(dump);
      for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), SENTINEL_PASSWORD]) assert.ok(!text.includes(secret), `the dump shows a password: ${text}`);
      const redis = dump.redis as Record<string, unknown>;
      assert.equal(redis.password, '[redacted]', 'says a password is set');
      if (env.REDIS_SENTINEL_PASSWORD) assert.equal(redis.sentinelPassword, '[redacted]');
      assert.equal(redis.username, 'gh', 'the user name is not a secret and helps debugging');
      if (env.REDIS_CA_FILE) {
        assert.deepEqual(redis.tls, { caFile: tls.caFile }, 'names the CA file, without its PEM text');
        assert.ok(!text.includes('BEGIN CERTIFICATE'));
      }
    });
  }
});
