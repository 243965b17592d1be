// SPEC §2 `REDIS_USERNAME`, `REDIS_PASSWORD` (or a password in `REDIS_URL`) against a real
// standalone redis-server that wants them: `requirepass` for the default user, and an ACL user
// limited to Gatehouse's keys (`~gh:*`). Wrong or missing credentials are "Redis unavailable"
// (SPEC §5): a login falls back to a cookie session, readiness says so, and the log names the
// authentication error without ever printing a password.
//
// One redis-server holds both the default user and the ACL user (with different passwords, so a
// login as `gh` proves the user name was sent); the app restarts with each set of variables.
//
//   NEXT_DIST_DIR=.next-<you> node --import tsx --test test/integration/redis-auth.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedis, type RedisServer } from '../harness/redis';
import { startStack, type Stack } from '../harness/stack';
import { SESSION_COOKIE, bearerAt, callApp, loginFresh, type Call } from './support';

const DEFAULT_PASSWORD = 'default-pw-4f9Qx#';
const GH_PASSWORD = 'gh-pw-Tz81!w';
const WRONG_PASSWORD = 'wrong-pw-Ju36%e';
const PASSWORDS = [DEFAULT_PASSWORD, GH_PASSWORD, WRONG_PASSWORD, ...[DEFAULT_PASSWORD, GH_PASSWORD, WRONG_PASSWORD].map(encodeURIComponent)];

/** Every password, raw or percent-encoded, must stay out of Gatehouse's output. */
function assertNoPasswordIn(logs: string[]): void {
  const text = logs.join('\n');
  for (const secret of PASSWORDS) assert.ok(!text.includes(secret), `Gatehouse's output shows a password (${secret})`);
}

const sessionKeys = async (redis: RedisServer) => (await redis.client().keys('gh:{*}:session')).sort();

/** Set-Cookie lines that touch the session cookie (set or clear). */
const sessionSetCookies = (res: Call) => res.headers.getSetCookie().filter((l) => l.startsWith(`${SESSION_COOKIE}=`) || l.startsWith(`${SESSION_COOKIE}.`));

async function readiness(appUrl: string): Promise<{ status: number; body: Record<string, unknown> | string }> {
  const res = await callApp(appUrl, '/oauth2/ready', undefined);
  let body: Record<string, unknown> | string = res.text.slice(0, 200);
  try {
    body = res.json();
  } catch {
    /* not JSON: the assertion shows the text */
  }
  return { status: res.status, body };
}

/** A login that must end up as a Redis session: one new session key, the Bearer upstream. */
async function loginIntoRedis(stack: Stack, redis: RedisServer, user: string) {
  const before = new Set(await sessionKeys(redis));
  const login = await loginFresh(stack.appUrl, user);
  const added = (await sessionKeys(redis)).filter((k) => !before.has(k));
  assert.equal(added.length, 1, `${user}'s login should store one session in Redis, found ${added.length} new keys`);
  const info = await callApp(stack.appUrl, '/oauth2/session', login.cookie);
  assert.equal(info.status, 200);
  assert.equal(info.json().user.sub, user);
  assert.equal((await callApp(stack.appUrl, `/api/${user}`, login.cookie)).status, 200);
  assert.match(bearerAt(stack, `/${user}`) ?? '', /^Bearer \S+$/, 'the upstream gets the Bearer');
  return { ...login, key: added[0] };
}

describe('standalone Redis that wants credentials', () => {
  let redis: RedisServer;
  let stack: Stack;
  let aclSession: { cookie: string; key: string };

  before(async () => {
    redis = await startRedis({
      password: DEFAULT_PASSWORD,
      // Gatehouse's own user: its keys only (all are gh:…), no pub/sub channels.
      aclUsers: [`gh on >${GH_PASSWORD} ~gh:* resetchannels +@all`],
    });
    stack = await startStack({ redis, env: { REDIS_PASSWORD: DEFAULT_PASSWORD } });
  });
  after(async () => {
    await stack?.close();
    await redis?.close();
  });

  test('requirepass: with REDIS_PASSWORD a login is a Redis session', async () => {
    await loginIntoRedis(stack, redis, 'alice');
    assertNoPasswordIn(stack.app.logs);
  });

  test('requirepass: with REDIS_PASSWORD readiness is 200', async () => {
    const ready = await readiness(stack.appUrl);
    assert.equal(ready.status, 200, `readiness: ${JSON.stringify(ready.body)}`);
  });

  test('requirepass: a password in REDIS_URL works as well', async () => {
    const url = new URL(redis.url);
    url.password = encodeURIComponent(DEFAULT_PASSWORD);
    await stack.restartApp({ REDIS_URL: url.href, REDIS_PASSWORD: '' });
    await loginIntoRedis(stack, redis, 'bob');
    assert.ok(stack.app.logs.some((l) => l.includes('"gatehouse configured"')), 'the config dump was logged');
    assertNoPasswordIn(stack.app.logs);
  });

  test('ACL user: REDIS_USERNAME and REDIS_PASSWORD log in as that user, and its key pattern suffices', async () => {
    await stack.restartApp({ REDIS_URL: redis.url, REDIS_USERNAME: 'gh', REDIS_PASSWORD: GH_PASSWORD });
    aclSession = await loginIntoRedis(stack, redis, 'carol');
    const clients = String(await redis.client().client('LIST'));
    assert.match(clients, /\buser=gh\b/, `Gatehouse should be connected as "gh":\n${clients}`);
    // The default user has another password: only a login as "gh" could have stored these. A
    // second session to log out: deleting is allowed to the ACL user too.
    const carolAgain = await loginIntoRedis(stack, redis, 'carol');
    assert.equal((await callApp(stack.appUrl, '/oauth2/logout/local', carolAgain.cookie)).status, 204);
    assert.ok(!(await sessionKeys(redis)).includes(carolAgain.key), 'a logout deletes the session as the ACL user');
    assertNoPasswordIn(stack.app.logs);
  });

  test('wrong password: a login falls back to a cookie session, a Redis session reads as none (cookie kept), the log names WRONGPASS', async () => {
    await stack.restartApp({ REDIS_USERNAME: 'gh', REDIS_PASSWORD: WRONG_PASSWORD });
    const keysBefore = await sessionKeys(redis);

    const dave = await loginFresh(stack.appUrl, 'dave');
    const info = await callApp(stack.appUrl, '/oauth2/session', dave.cookie);
    assert.equal(info.status, 200, 'the fallback session works');
    assert.equal(info.json().user.sub, 'dave');
    assert.equal((await callApp(stack.appUrl, '/api/dave-fallback', dave.cookie)).status, 200);
    assert.match(bearerAt(stack, '/dave-fallback') ?? '', /^Bearer \S+$/, 'the fallback session forwards its Bearer');
    assert.deepEqual(await sessionKeys(redis), keysBefore, 'nothing was written to Redis');
    await stack.app.waitForLog(/redis unavailable at login/i);

    const old = await callApp(stack.appUrl, '/oauth2/session', aclSession.cookie);
    assert.equal(old.status, 401, 'the Redis session cannot be read without the right password');
    assert.deepEqual(sessionSetCookies(old), [], 'its cookie is neither cleared nor replaced');

    const line = await stack.app.waitForLog(/"msg":"redis error".*WRONGPASS/);
    assert.match(line, /REDIS_PASSWORD/, 'the log line says which variable to check');
    assertNoPasswordIn(stack.app.logs);
  });

  test('wrong password: readiness is 503 store_unavailable', async () => {
    const ready = await readiness(stack.appUrl);
    assert.equal(ready.status, 503, `readiness with a wrong Redis password: ${JSON.stringify(ready.body)}`);
    assert.equal((ready.body as Record<string, unknown>).reason, 'store_unavailable');
  });

  test('no password for a Redis that wants one: the same fallback, the log names NOAUTH', async () => {
    await stack.restartApp({ REDIS_USERNAME: '', REDIS_PASSWORD: '' });
    const keysBefore = await sessionKeys(redis);
    const erin = await loginFresh(stack.appUrl, 'erin');
    assert.equal((await callApp(stack.appUrl, '/oauth2/session', erin.cookie)).status, 200);
    assert.deepEqual(await sessionKeys(redis), keysBefore, 'nothing was written to Redis');
    await stack.app.waitForLog(/"msg":"redis error".*NOAUTH/);
    assertNoPasswordIn(stack.app.logs);
  });

  test('credentials fixed: the Redis session made before works again, untouched', async () => {
    await stack.restartApp({ REDIS_USERNAME: 'gh', REDIS_PASSWORD: GH_PASSWORD });
    const info = await callApp(stack.appUrl, '/oauth2/session', aclSession.cookie);
    assert.equal(info.status, 200);
    assert.equal(info.json().user.sub, 'carol');
    assert.ok((await sessionKeys(redis)).includes(aclSession.key));
  });

  test('credentials fixed: readiness is 200 again', async () => {
    const ready = await readiness(stack.appUrl);
    assert.equal(ready.status, 200, `readiness: ${JSON.stringify(ready.body)}`);
  });
});
