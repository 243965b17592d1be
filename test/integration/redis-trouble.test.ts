// SPEC §5 "Redis unavailable": an existing Redis session reads as "no session" while Redis cannot
// answer, its cookie is kept, and it works again when Redis is back; a new login falls back to a
// cookie session (logged, counted); Redis trouble never hangs a request.
//
// Two ways Redis fails: stopped (connection refused) and frozen (SIGSTOP: the connection stays up
// and nothing answers, which only a command timeout catches). For "works again after a restart"
// the stopped Redis keeps its data on disk (AOF), as a production Redis would: with persistence
// off a restart would lose the session for reasons that have nothing to do with Gatehouse.
//
//   NEXT_DIST_DIR=.next-<you> node --import tsx --test test/integration/redis-trouble.test.ts

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from '../harness/http';
import { freePort } from '../harness/ports';
import { startRedis, type RedisServer } from '../harness/redis';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { SESSION_COOKIE, bearerAt, callApp, loginFresh, type Call } from './support';

/** SPEC §5: store calls are bounded by a short timeout. Generous for a loaded 2-core CI box. */
const FAST_MS = 2_000;

/** Set-Cookie lines of a response that touch the session cookie (set or clear). */
const sessionSetCookies = (res: Call) => res.headers.getSetCookie().filter((l) => l.startsWith(`${SESSION_COOKIE}=`) || l.startsWith(`${SESSION_COOKIE}.`));

/** Total size of the session cookie and its chunks, as the browser holds them. */
const sessionCookieBytes = (browser: Browser, appUrl: string) =>
  browser.cookiesFor(appUrl).filter((c) => c.name === SESSION_COOKIE || c.name.startsWith(`${SESSION_COOKIE}.`)).reduce((n, c) => n + c.value.length, 0);

/** Until Gatehouse reads `cookie`'s Redis session again (after Redis came back). */
const sessionWorksAgain = (what: string, timeoutMs: number, appUrl: string, cookie: string) =>
  eventually(what, timeoutMs, async () => (await callApp(appUrl, '/oauth2/session', cookie)).status === 200);

async function sessionKeys(redis: RedisServer): Promise<string[]> {
  return (await redis.client().keys('gh:{*}:session')).sort();
}

async function metric(metricsUrl: string, name: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('Redis stopped and started again', () => {
  let dataDir: string;
  let redis: RedisServer;
  let stack: Stack;
  let metricsUrl: string;
  let alice: { browser: Browser; cookie: string };
  let bob: { browser: Browser; cookie: string };
  let aliceKey: string;
  let aliceBearer: string;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'gatehouse-redis-aof-'));
    redis = await startRedis({ args: ['--dir', dataDir, '--appendonly', 'yes', '--appendfsync', 'always'] });
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    stack = await startStack({ redis, env: { METRICS_ADDRESS: `127.0.0.1:${metricsPort}` } });
  });
  after(async () => {
    await stack?.close();
    await redis?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('with Redis up, a login is a Redis session', async () => {
    alice = await loginFresh(stack.appUrl, 'alice');
    const keys = await sessionKeys(redis);
    assert.equal(keys.length, 1);
    aliceKey = keys[0];
    assert.equal((await callApp(stack.appUrl, '/api/up', alice.cookie)).status, 200);
    aliceBearer = bearerAt(stack, '/up')!;
    assert.match(aliceBearer ?? '', /^Bearer \S+$/);
  });

  test('Redis down: the session reads as none, fast, and its cookie is kept', async () => {
    await redis.stop();
    const seen = stack.upstream.requests.length;
    const info = await callApp(stack.appUrl, '/oauth2/session', alice.cookie);
    const api = await callApp(stack.appUrl, '/api/down', alice.cookie);

    assert.equal(info.status, 401, '/oauth2/session answers "no session"');
    assert.equal(api.status, 200, 'the API is still reached');
    assert.equal(stack.upstream.requests.length - seen, 1);
    assert.equal(bearerAt(stack, '/down'), undefined, 'without a Bearer');
    for (const res of [info, api]) {
      assert.deepEqual(sessionSetCookies(res), [], 'the session cookie is neither cleared nor replaced');
      assert.ok(res.ms < FAST_MS, `answered in ${res.ms} ms`);
    }
    await stack.app.waitForLog(/"level":"warn".*session store unavailable/);
  });

  test('Redis down: a new login succeeds with a cookie session, logged and counted', async () => {
    const fallbacksBefore = await metric(metricsUrl, 'gatehouse_store_fallbacks_total');
    bob = await loginFresh(stack.appUrl, 'bob');
    assert.ok(
      sessionCookieBytes(bob.browser, stack.appUrl) > 2 * sessionCookieBytes(alice.browser, stack.appUrl),
      'the fallback cookie holds the whole session, not a ticket',
    );
    const info = await callApp(stack.appUrl, '/oauth2/session', bob.cookie);
    assert.equal(info.status, 200);
    assert.equal((JSON.parse(info.text) as { user: { sub: string } }).user.sub, 'bob');
    assert.equal((await callApp(stack.appUrl, '/api/bob-down', bob.cookie)).status, 200);
    assert.match(bearerAt(stack, '/bob-down') ?? '', /^Bearer \S+$/, 'the fallback session forwards its Bearer');

    await stack.app.waitForLog(/"level":"warn".*redis unavailable at login/i);
    assert.equal(await metric(metricsUrl, 'gatehouse_store_fallbacks_total'), fallbacksBefore + 1, 'the fallback is counted');
  });

  test('Redis back: the old Redis session works again, untouched', async () => {
    await redis.start();
    const started = Date.now();
    await sessionWorksAgain('the Redis session to work again', 8_000, stack.appUrl, alice.cookie);
    const tookMs = Date.now() - started;
    assert.ok(tookMs < 5_000, `Gatehouse reconnected in ${tookMs} ms`);
    assert.ok((await sessionKeys(redis)).includes(aliceKey), 'the session key survived the outage');
    assert.equal((await callApp(stack.appUrl, '/api/back', alice.cookie)).status, 200);
    assert.equal(bearerAt(stack, '/back'), aliceBearer, 'same tokens as before the outage');
    // The fallback session made during the outage is a cookie session and stays one.
    assert.equal((await callApp(stack.appUrl, '/oauth2/session', bob.cookie)).status, 200);
    assert.equal((await sessionKeys(redis)).length, 1, 'the fallback session was not moved into Redis');
  });
});

describe('Redis frozen (SIGSTOP) and thawed', () => {
  let stack: Stack;
  let redis: RedisServer;
  let alice: { browser: Browser; cookie: string };

  before(async () => {
    stack = await startStack({ redis: true });
    redis = stack.redis!;
  });
  after(async () => {
    try {
      redis?.thaw();
    } catch {
      /* not running */
    }
    await stack?.close();
  });

  test('requests never hang on a frozen Redis, the session is kept and works after thawing', async () => {
    alice = await loginFresh(stack.appUrl, 'alice');
    assert.equal((await callApp(stack.appUrl, '/api/warm', alice.cookie)).status, 200);
    const bearer = bearerAt(stack, '/warm');
    assert.match(bearer ?? '', /^Bearer \S+$/);
    const [key] = await sessionKeys(redis);
    assert.ok(key);
    const stored = await redis.client().get(key);

    redis.freeze();
    let frozen: Call[];
    let fallback: { browser: Browser; cookie: string; ms: number };
    try {
      const started = Date.now();
      frozen = await Promise.all([
        ...Array.from({ length: 4 }, () => callApp(stack.appUrl, '/oauth2/session', alice.cookie)),
        ...Array.from({ length: 4 }, (_, i) => callApp(stack.appUrl, `/api/frozen/${i}`, alice.cookie)),
      ]);
      const t = Date.now();
      const bob = await loginFresh(stack.appUrl, 'bob');
      fallback = { ...bob, ms: Date.now() - t };
      assert.ok(Date.now() - started < 30_000);
    } finally {
      redis.thaw();
    }

    for (const res of frozen.slice(0, 4)) {
      assert.equal(res.status, 401, '/oauth2/session: no session while Redis does not answer');
      assert.ok(res.ms < FAST_MS, `/oauth2/session answered in ${res.ms} ms`);
      assert.deepEqual(sessionSetCookies(res), [], 'the cookie is kept');
    }
    for (const [i, res] of frozen.slice(4).entries()) {
      assert.equal(res.status, 200, 'the API is reached');
      assert.ok(res.ms < FAST_MS, `/api answered in ${res.ms} ms`);
      assert.equal(bearerAt(stack, `/frozen/${i}`), undefined, 'without a Bearer');
      assert.deepEqual(sessionSetCookies(res), [], 'the cookie is kept');
    }
    // A login during the freeze is bounded too and ends in a (cookie) session.
    assert.ok(fallback.ms < 10_000, `login while frozen took ${fallback.ms} ms`);
    assert.equal((await callApp(stack.appUrl, '/oauth2/session', fallback.cookie)).status, 200);

    await sessionWorksAgain('the Redis session to work again after thawing', 5_000, stack.appUrl, alice.cookie);
    assert.equal(await redis.client().get(key), stored, 'the stored session is unchanged: not deleted, not rewritten');
    assert.ok((await redis.client().pttl(key)) > 0, 'and it still expires with the session');
    assert.equal((await callApp(stack.appUrl, '/api/thawed', alice.cookie)).status, 200);
    assert.equal(bearerAt(stack, '/thawed'), bearer, 'the same tokens are forwarded again');
  });

  /** Runs `during` with Redis frozen, thaws, and waits until Gatehouse reads Redis sessions again. */
  async function whileFrozen<T>(during: () => Promise<T>): Promise<T> {
    redis.freeze();
    let result: T;
    try {
      result = await during();
    } finally {
      redis.thaw();
    }
    await sessionWorksAgain('Gatehouse reading Redis again', 5_000, stack.appUrl, alice.cookie);
    return result;
  }

  test('a logout while Redis does not answer never reports success for a session that lives on', async () => {
    const carol = await loginFresh(stack.appUrl, 'carol');
    const logout = await whileFrozen(() => callApp(stack.appUrl, '/oauth2/logout/local', carol.cookie));
    assert.ok(logout.ms < FAST_MS, `logout answered in ${logout.ms} ms`);
    if (logout.status < 400) {
      // Success claimed (and the cookie cleared): then the session must be over for a replayed cookie too.
      const replay = await callApp(stack.appUrl, '/oauth2/session', carol.cookie);
      assert.equal(replay.status, 401, `logout answered ${logout.status} while Redis was frozen, yet the replayed cookie still has a session once Redis is back`);
    } else {
      assert.deepEqual(sessionSetCookies(logout), [], 'a failed logout keeps the cookie so the user can retry');
    }
  });

  test('a back-channel logout while Redis does not answer is 503 (retry later), and works once it does', async () => {
    const before = new Set(await sessionKeys(redis));
    const dave = await loginFresh(stack.appUrl, 'dave');
    const [daveKey] = (await sessionKeys(redis)).filter((k) => !before.has(k));
    assert.ok(daveKey);
    const sid = stack.idp.lastSid('dave');
    assert.ok(sid);
    const logout = () => stack.idp.backchannelLogout({ clientId: stack.client.clientId, sub: 'dave', sid });
    const failure = await whileFrozen(() => logout().then(() => 'delivered', (err: Error) => err.message));
    assert.match(failure, /got: 503\b/, 'the store outage is reported as 503, not as an internal error');
    assert.ok((await sessionKeys(redis)).includes(daveKey), 'the session is still there after the failed delivery');
    await logout();
    assert.ok(!(await sessionKeys(redis)).includes(daveKey), 'a delivered back-channel logout ends the session');
    assert.equal((await callApp(stack.appUrl, '/oauth2/session', dave.cookie)).status, 401);
  });
});
