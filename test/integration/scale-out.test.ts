// Gatehouse scaled out (SPEC §2 REDIS_SENTINELS / REDIS_CLUSTER_NODES, §5 single-flight refresh
// across replicas, §9 "Redis Sentinel and Cluster"): the production build against a real Sentinel
// setup, a real 3-master Cluster, and two Gatehouse replicas sharing one Redis.
//
//   NEXT_DIST_DIR=.next-<you> node --import tsx --test test/integration/scale-out.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { redisKeys } from '../../lib/session/redis-store';
import { startApp, type App } from '../harness/app';
import { Browser, loginViaIdp, logoutViaIdp } from '../harness/http';
import { startCluster, type RedisCluster } from '../harness/redis-cluster';
import type { RedisNode } from '../harness/redis-node';
import { startSentinelSetup, type SentinelSetup } from '../harness/redis-sentinel';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { bearerAt, callApp, loginFresh } from './support';

const SESSION_KEY = /^gh:\{([^}]+)\}:session$/;

/** Logs `name` in through the app and returns the Cookie header a browser would send it. */
const login = async (appUrl: string, name = 'alice'): Promise<string> => (await loginFresh(appUrl, name)).cookie;

async function sessionKeysOn(node: RedisNode): Promise<string[]> {
  const keys = await node.command('KEYS', 'gh:{*}:session');
  assert.ok(Array.isArray(keys), `KEYS on ${node.address}: ${String(keys)}`);
  return (keys as string[]).sort();
}

describe('Redis Sentinel (REDIS_SENTINELS + REDIS_SENTINEL_NAME)', () => {
  let sentinel: SentinelSetup;
  let stack: Stack;

  before(async () => {
    sentinel = await startSentinelSetup();
    stack = await startStack({ env: { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: sentinel.name } });
  });
  after(async () => {
    await stack?.close();
    await sentinel?.close();
  });

  test('a login lives on the master the sentinels name, and the upstream gets the Bearer', async () => {
    assert.deepEqual(await sessionKeysOn(sentinel.master), [], 'no session before the login');
    const cookie = await login(stack.appUrl);

    const api = await callApp(stack.appUrl, '/api/sentinel', cookie);
    assert.equal(api.status, 200);
    assert.match(bearerAt(stack, '/sentinel') ?? '', /^Bearer \S+$/, 'the forwarded request should carry the access token');

    const onMaster = await sessionKeysOn(sentinel.master);
    assert.equal(onMaster.length, 1, `one session key on the master ${sentinel.master.address}`);
    const role = (await sentinel.master.command('ROLE')) as string[];
    assert.equal(role[0], 'master');
    // Written to the master, replicated from there: the replica is read-only and cannot have taken it.
    const replicated = await waitForKeys(sentinel.replica, onMaster);
    assert.deepEqual(replicated, onMaster);

    const info = await callApp(stack.appUrl, '/oauth2/session', cookie);
    assert.equal(info.status, 200);
    assert.equal(info.json().user.sub, 'alice');

    const logout = await callApp(stack.appUrl, '/oauth2/logout/local', cookie);
    assert.equal(logout.status, 204);
    assert.deepEqual(await sessionKeysOn(sentinel.master), [], 'logout deletes the session on the master');
    assert.equal((await callApp(stack.appUrl, '/oauth2/session', cookie)).status, 401, 'a replayed cookie has no session');
  });

  test('after a failover, sessions survive and new ones are stored on the new master', async () => {
    const cookie = await login(stack.appUrl, 'frank');
    assert.ok(Number(await sentinel.master.command('WAIT', 1, 2_000)) >= 1, 'the session reached the replica before the failover');
    const oldMaster = sentinel.master;
    await sentinel.failover();
    const newMaster = sentinel.master;
    assert.notEqual(newMaster.port, oldMaster.port);

    // The session made before the failover was replicated: it still works.
    await eventually('the pre-failover session to work again', 5_000, async () => (await callApp(stack.appUrl, '/oauth2/session', cookie)).status === 200);

    // Sentinel demotes the old master only seconds later, and it then resyncs from the new one:
    // whatever was written to it in between is lost. So once the sentinels name the new master,
    // new logins must go there (ioredis follows `+switch-master` with `failoverDetector`).
    const misplaced: string[] = [];
    const stored = await eventually(
      `a login stored on the new master ${newMaster.address}`,
      3_000,
      async () => {
        const before = new Set(await sessionKeysOn(newMaster));
        const beforeOld = new Set(await sessionKeysOn(oldMaster));
        const next = await login(stack.appUrl, 'grace');
        const added = (await sessionKeysOn(newMaster)).filter((k) => !before.has(k));
        misplaced.push(...(await sessionKeysOn(oldMaster)).filter((k) => !beforeOld.has(k)));
        return added.length === 1 && { cookie: next, key: added[0] };
      },
      {
        detail: () =>
          `logins within 3 s after the sentinels named ${newMaster.address} were stored on the old master ${oldMaster.address} (${misplaced.length} sessions), where they are lost when Sentinel demotes it`,
      },
    );
    assert.equal((await callApp(stack.appUrl, '/oauth2/session', stored.cookie)).status, 200);
  });
});

/** Polls the replica until it holds `keys` (replication is asynchronous); returns all it holds. */
function waitForKeys(node: RedisNode, keys: string[], timeoutMs = 5_000): Promise<string[]> {
  let found: string[] = [];
  return eventually(
    `${keys.join(', ')} on ${node.address}`,
    timeoutMs,
    async () => {
      found = await sessionKeysOn(node);
      return keys.every((k) => found.includes(k)) && found;
    },
    { detail: () => `it holds ${found.join(', ') || 'no session key'}` },
  );
}

describe('Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let cluster: RedisCluster;
  let stack: Stack;

  before(async () => {
    cluster = await startCluster();
    stack = await startStack({ env: { REDIS_CLUSTER_NODES: cluster.nodes } });
  });
  after(async () => {
    await stack?.close();
    await cluster?.close();
  });

  const allSessionKeys = async () => (await Promise.all(cluster.masters.map(sessionKeysOn))).flat().sort();

  test('login, Bearer upstream, session JSON and logout; one session keeps to one hash slot', async () => {
    const browser = new Browser();
    await loginViaIdp(browser, stack.appUrl, { login: 'alice', stopAfterCallback: true });
    const cookie = browser.cookieHeader(stack.appUrl);

    const api = await callApp(stack.appUrl, '/api/cluster', cookie);
    assert.equal(api.status, 200);
    assert.match(bearerAt(stack, '/cluster') ?? '', /^Bearer \S+$/);

    const info = await callApp(stack.appUrl, '/oauth2/session', cookie);
    assert.equal(info.status, 200);
    assert.equal(info.json().user.sub, 'alice');
    assert.equal(info.json().session.active, true);

    const keys = await allSessionKeys();
    assert.equal(keys.length, 1, `one session key in the cluster, got ${keys.join(', ')}`);
    const id = SESSION_KEY.exec(keys[0])?.[1];
    assert.ok(id, `unexpected session key ${keys[0]}`);
    assert.equal(keys[0], redisKeys.session(id));
    const node = cluster.masters[0];
    const slotOf = async (key: string) => Number(await node.command('CLUSTER', 'KEYSLOT', key));
    const slot = await slotOf(redisKeys.session(id));
    assert.equal(await slotOf(redisKeys.lock(id)), slot, 'session key and refresh lock must share a hash slot');
    const owner = await cluster.nodeForSlot(slot);
    assert.deepEqual(await sessionKeysOn(owner), keys, `the key lives on the node serving slot ${slot}`);

    // RP-initiated logout through the IdP (which also sends a back-channel logout to the app).
    const page = await logoutViaIdp(browser, stack.appUrl);
    assert.equal(page.status, 200, `logout should end on a page, hops:\n${page.hops.map((h) => `${h.status} ${h.url}`).join('\n')}`);
    assert.deepEqual(await allSessionKeys(), [], 'logout deletes the session from the cluster');
    assert.equal((await callApp(stack.appUrl, '/oauth2/session', cookie)).status, 401, 'a replayed cookie has no session');
    const afterLogout = await callApp(stack.appUrl, '/api/cluster-after', cookie);
    assert.equal(afterLogout.status, 200);
    assert.equal(bearerAt(stack, '/cluster-after'), undefined, 'no Bearer after logout');
  });

  test('sessions spread over the masters all work (requests are routed to the owning node)', async () => {
    const users = ['bob', 'carol', 'dave', 'erin'];
    const cookies = await Promise.all(users.map((u) => login(stack.appUrl, u)));
    const keys = await allSessionKeys();
    assert.equal(keys.length, users.length);
    const owners = new Set(await Promise.all(keys.map(async (k) => (await cluster.nodeForSlot(Number(await cluster.masters[0].command('CLUSTER', 'KEYSLOT', k)))).address)));
    for (const [i, user] of users.entries()) {
      const info = await callApp(stack.appUrl, '/oauth2/session', cookies[i]);
      assert.equal(info.status, 200, `${user}'s session (keys on ${[...owners].join(', ')})`);
      assert.equal(info.json().user.sub, user);
    }
  });
});

describe('two Gatehouse replicas on one Redis', () => {
  let stack: Stack;
  let appB: App;

  before(async () => {
    stack = await startStack({ redis: true });
    // Same configuration as A (one INGRESS, as behind a load balancer), another port.
    appB = await startApp(stack.env);
  });
  after(async () => {
    await appB?.stop();
    await stack?.close();
  });

  test('a session made on A works on B, and a logout on A ends it on B', async () => {
    const cookie = await login(stack.appUrl);

    const onA = await callApp(stack.app.url, '/api/from-a', cookie);
    const onB = await callApp(appB.url, '/api/from-b', cookie);
    assert.equal(onA.status, 200);
    assert.equal(onB.status, 200);
    const bearer = bearerAt(stack, '/from-a');
    assert.match(bearer ?? '', /^Bearer \S+$/);
    assert.equal(bearerAt(stack, '/from-b'), bearer, 'B forwards the same session tokens');
    const infoB = await callApp(appB.url, '/oauth2/session', cookie);
    assert.equal(infoB.status, 200);
    assert.equal(infoB.json().user.sub, 'alice');

    assert.equal((await callApp(stack.app.url, '/oauth2/logout/local', cookie)).status, 204);
    assert.equal((await callApp(appB.url, '/oauth2/session', cookie)).status, 401, 'B sees the logout made on A');
    assert.equal((await callApp(appB.url, '/api/from-b-after', cookie)).status, 200);
    assert.equal(bearerAt(stack, '/from-b-after'), undefined, 'B forwards no Bearer after the logout');
  });
});

describe('refresh race across two replicas (rotating refresh tokens)', () => {
  const TOKEN_TTL_S = 8; // cooldown after a refresh: half of it (tokens ≤ 2 min)
  let stack: Stack;
  let appB: App;
  let userinfo: string;

  before(async () => {
    stack = await startStack({
      redis: true,
      idp: { accessTokenTtlSeconds: TOKEN_TTL_S, rotateRefreshTokens: true },
      // Longer than the token lifetime: every request past the cooldown wants a refresh.
      env: { SESSION_REFRESH_BEFORE: '5m' },
    });
    appB = await startApp(stack.env);
    const meta = (await (await fetch(`${stack.idp.issuer}/.well-known/openid-configuration`)).json()) as { userinfo_endpoint: string };
    userinfo = meta.userinfo_endpoint;
  });
  after(async () => {
    await appB?.stop();
    await stack?.close();
  });

  /** Polls the session JSON until the refresh cooldown is over, i.e. the next request refreshes. */
  async function waitForRefreshDue(cookie: string): Promise<void> {
    let last = '';
    await eventually(
      'the refresh to come due',
      (TOKEN_TTL_S + 5) * 1000,
      async () => {
        const info = await callApp(stack.app.url, '/oauth2/session', cookie);
        assert.equal(info.status, 200);
        last = info.text;
        const tokens = info.json().tokens;
        return tokens.refresh_cooldown === false && tokens.next_auto_refresh_in_seconds === 0;
      },
      { detail: () => `last session JSON: ${last}` },
    );
  }

  async function acceptedByIdp(bearer: string): Promise<boolean> {
    const res = await fetch(userinfo, { headers: { authorization: bearer } });
    await res.body?.cancel();
    return res.status === 200;
  }

  test('20 parallel requests split over A and B cause exactly one refresh grant', async () => {
    const cookie = await login(stack.appUrl);
    assert.equal((await callApp(stack.app.url, '/api/before', cookie)).status, 200);
    const initial = bearerAt(stack, '/before');
    assert.match(initial ?? '', /^Bearer \S+$/);
    assert.equal(stack.idp.grants.refreshGrants, 0, 'no refresh inside the cooldown after login');

    await waitForRefreshDue(cookie);
    stack.idp.delayTokenRequests(750); // every replica's requests pile up while the grant runs
    const seen = stack.upstream.requests.length;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => callApp(i % 2 === 0 ? stack.app.url : appB.url, `/api/race/${i}`, cookie)),
    );
    stack.idp.delayTokenRequests(0);

    assert.deepEqual(results.map((r) => r.status), Array(20).fill(200), 'every request answered 200');
    assert.equal(stack.idp.grants.refreshGrantErrors, 0, `no refresh error at the IdP: ${JSON.stringify(stack.idp.grantLog)}`);
    assert.equal(stack.idp.grants.refreshGrants, 1, 'one refresh grant for the whole burst, across both replicas');
    const raced = stack.upstream.requests.slice(seen).filter((r) => r.url.startsWith('/race/'));
    assert.equal(raced.length, 20, 'every request reached the upstream');
    const bearers = new Set(raced.map((r) => r.headers.authorization));
    assert.ok(!bearers.has(undefined), 'every upstream request carried a Bearer token');
    assert.equal(bearers.size, 1, 'every request waited for the one refresh and used its token');
    const [refreshed] = [...bearers] as string[];
    assert.notEqual(refreshed, initial, 'the burst used the refreshed token');
    assert.ok(await acceptedByIdp(refreshed), 'the IdP accepts the refreshed access token');

    // The grant survived: the rotated refresh token that was stored works for the next refresh.
    await waitForRefreshDue(cookie);
    const later = await callApp(appB.url, '/api/later', cookie);
    assert.equal(later.status, 200);
    const latest = bearerAt(stack, '/later');
    assert.match(latest ?? '', /^Bearer \S+$/, 'still logged in after the race');
    assert.notEqual(latest, refreshed);
    assert.equal(stack.idp.grants.refreshGrants, 2);
    assert.equal(stack.idp.grants.refreshGrantErrors, 0, `no replayed refresh token: ${JSON.stringify(stack.idp.grantLog)}`);
    assert.ok(await acceptedByIdp(latest!), 'the IdP accepts the newest access token');
    assert.equal((await callApp(stack.app.url, '/oauth2/session', cookie)).status, 200);
  });
});
