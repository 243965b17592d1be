// Self-test of the integration harness's own parts, without the app: the throwaway Redis, the app
// process runner (with a stand-in for server.ts) and the login/logout helpers of the cookie-jar
// browser (against a minimal relying party). The dev IdP and the demo upstream have their own
// self-tests (dev-idp.test.ts, dev-upstream.test.ts).
//
//   node --import tsx --test test/harness/harness.test.ts

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { Redis } from 'ioredis';
import { demoClient, startIdp, type Idp } from '../../dev/idp';
import { Browser, loginViaIdp, logoutViaIdp } from './http';
import { freePort } from './ports';
import { startApp, startAppExpectingFailure } from './app';
import { pkce, type TokenResponse } from './pkce';
import { startRedis } from './redis';
import { eventually } from './wait';

describe('throwaway Redis', () => {
  test('start, freeze/thaw, stop/start on the same port', async (t) => {
    const redis = await startRedis();
    t.after(() => redis.close());
    assert.notEqual(redis.port, 6379);
    assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
    assert.equal(await redis.client().ping(), 'PONG');
    await redis.client().set('k', 'v');
    assert.equal(await redis.client().get('k'), 'v');

    // The fail-fast options Gatehouse uses (PITFALLS: only commandTimeout catches a frozen server).
    const probe = new Redis(redis.url, { commandTimeout: 300, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true, connectTimeout: 1000 });
    probe.on('error', () => {});
    t.after(() => probe.disconnect());
    await probe.connect();
    assert.equal(await probe.ping(), 'PONG');

    redis.freeze();
    const t0 = Date.now();
    await assert.rejects(probe.ping(), /timed out/i);
    assert.ok(Date.now() - t0 < 2000, 'bounded by commandTimeout');
    redis.thaw();
    assert.equal(await probe.ping(), 'PONG');

    await redis.stop();
    await assert.rejects(probe.ping());
    await redis.start();
    assert.equal(await redis.client().ping(), 'PONG', 'same port after restart');
    assert.equal(await redis.client().get('k'), null, 'no persistence');
  });
});

const FAKE_APP = 'test/harness/fake-app.ts';

/** Whether `pid` is a live process (on Linux, a zombie waiting to be reaped is not). */
function isRunning(pid: number): boolean {
  if (!existsSync('/proc/self/stat')) {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)?.[0] !== 'Z';
  } catch {
    return false; // no such process
  }
}

describe('app process harness (with a stand-in for server.ts)', () => {
  test('startApp: production env, readiness, logs, SIGTERM', async () => {
    const app = await startApp({ EXTRA: 'yes' }, { entry: FAKE_APP });
    try {
      assert.equal(await (await fetch(`${app.url}/oauth2/ping`)).text(), 'pong');
      const line = await app.waitForLog(/"listening"/);
      const { env } = JSON.parse(line) as { env: Record<string, string | null> };
      assert.deepEqual(env, {
        NODE_ENV: 'production',
        PORT: String(app.port),
        HOSTNAME: '127.0.0.1',
        METRICS_ADDRESS: '',
        NODE_OPTIONS: null, // `--import tsx` from the test runner must not leak into the server
        NODE_TEST_CONTEXT: null,
        EXTRA: 'yes',
      });
      assert.equal(app.jsonLogs()[0]?.msg, 'listening');
    } finally {
      await app.stop();
    }
    assert.equal(app.process.exitCode, 0);
    assert.ok(app.logs.some((l) => l.includes('shutting down')));
  });

  test('startAppExpectingFailure: exit code and output', async () => {
    const r = await startAppExpectingFailure({ FAKE_APP_FAIL: 'SESSION_SECRET is too short' }, { entry: FAKE_APP });
    assert.equal(r.code, 1);
    assert.match(r.output, /SESSION_SECRET is too short/);
  });

  test('startAppExpectingFailure: an app that does not exit is stopped, the server under tsx included', async () => {
    // Both shutdowns: a server that exits on SIGTERM, and one that hangs (the process group SIGKILL).
    await Promise.all(
      ([{}, { FAKE_APP_IGNORE_SIGTERM: '1' }] as Array<Record<string, string>>).map(async (env) => {
        const error = await startAppExpectingFailure(env, { entry: FAKE_APP, timeoutMs: 5_000 }).then(() => undefined, (e: Error) => e);
        assert.ok(error, `${JSON.stringify(env)}: rejects, since the app kept running`);
        assert.match(error.message, /did not exit within 5000 ms/);
        const pid = Number(/"pid":(\d+)/.exec(error.message)?.[1]);
        assert.ok(pid > 0, `the stand-in logged its pid before the deadline:\n${error.message}`);
        await eventually(`the stand-in server (pid ${pid}) to be gone`, 5_000, () => !isRunning(pid));
      }),
    );
  });
});

describe('loginViaIdp / logoutViaIdp against a minimal relying party', () => {
  // A 50-line stand-in for Gatehouse's /oauth2 endpoints, so the browser helpers are proven
  // independently of the app (whose tests rely on them).
  let idp: Idp;
  let rp: http.Server;
  let rpUrl: string;
  const backchannel: string[] = [];

  before(async () => {
    const port = await freePort();
    rpUrl = `http://127.0.0.1:${port}`;
    const client = demoClient(rpUrl);
    idp = await startIdp({ clients: [client] });
    const pending = new Map<string, { verifier: string; redirect: string }>();
    const idTokens = new Map<string, string>();
    rp = http.createServer(async (req, res) => {
      const u = new URL(req.url!, rpUrl);
      const cookie = /rp\.session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      if (u.pathname === '/oauth2/login') {
        const { verifier, challenge } = pkce();
        const state = randomBytes(8).toString('hex');
        pending.set(state, { verifier, redirect: u.searchParams.get('redirect') ?? '/' });
        const auth = new URL(`${idp.issuer}/auth`);
        auth.search = new URLSearchParams({
          client_id: client.clientId, response_type: 'code', scope: 'openid profile', state,
          redirect_uri: client.redirectUris[0], code_challenge: challenge, code_challenge_method: 'S256',
        }).toString();
        res.writeHead(302, { location: auth.href }).end();
      } else if (u.pathname === '/oauth2/callback') {
        const p = pending.get(u.searchParams.get('state') ?? '');
        assert.ok(p && u.searchParams.get('iss') === idp.issuer);
        const tr = await fetch(`${idp.issuer}/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` },
          body: new URLSearchParams({ grant_type: 'authorization_code', code: u.searchParams.get('code')!, redirect_uri: client.redirectUris[0], code_verifier: p.verifier }),
        });
        const t = (await tr.json()) as TokenResponse;
        const sub = String(decodeJwt(t.id_token!).sub);
        idTokens.set(sub, t.id_token!);
        res.writeHead(302, { location: p.redirect, 'set-cookie': `rp.session=${sub}; Path=/; HttpOnly; SameSite=Lax` }).end();
      } else if (u.pathname === '/oauth2/logout') {
        const end = new URL(`${idp.issuer}/session/end`);
        end.search = new URLSearchParams({ id_token_hint: idTokens.get(cookie ?? '') ?? '', post_logout_redirect_uri: client.postLogoutRedirectUris[0] }).toString();
        res.writeHead(302, { location: end.href, 'set-cookie': 'rp.session=; Path=/; Max-Age=0' }).end();
      } else if (u.pathname === '/oauth2/logout/callback') {
        res.writeHead(302, { location: '/bye' }).end();
      } else if (u.pathname === '/oauth2/logout/backchannel') {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        backchannel.push(new URLSearchParams(Buffer.concat(chunks).toString()).get('logout_token') ?? '');
        res.writeHead(200).end();
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`${u.pathname} as ${cookie ?? 'nobody'}`);
      }
    });
    await new Promise<void>((resolve) => rp.listen(port, '127.0.0.1', resolve));
  });
  after(async () => {
    rp?.closeAllConnections();
    rp?.close();
    await idp?.close();
  });

  test('login lands on the target with a session cookie', async () => {
    const browser = new Browser();
    const result = await loginViaIdp(browser, rpUrl, { login: 'dave', redirect: '/whoami?x=1' });
    assert.equal(result.target, `${rpUrl}/whoami?x=1`);
    assert.equal(result.callback.status, 302);
    assert.equal(result.page.status, 200);
    assert.equal(result.page.body, '/whoami as dave');
    assert.equal(browser.cookie(rpUrl, 'rp.session')?.value, 'dave');
    assert.equal(browser.cookie(rpUrl, 'rp.session')?.httpOnly, true);
    assert.equal(idp.grants.authorizationCodeGrants, 1);

    // Logout: IdP confirmation page submits itself; back-channel logout reaches the RP.
    const out = await logoutViaIdp(browser, rpUrl);
    assert.equal(out.url, `${rpUrl}/bye`);
    assert.equal(out.body, '/bye as nobody');
    assert.equal(browser.cookie(rpUrl, 'rp.session'), undefined, 'Max-Age=0 deleted the cookie');
    assert.equal(backchannel.length, 1);
    assert.equal(decodeJwt(backchannel[0]).sub, 'dave');
  });

  test('stopAfterCallback does not fetch the target', async () => {
    const browser = new Browser();
    const result = await loginViaIdp(browser, rpUrl, { login: 'erin', redirect: '/somewhere', stopAfterCallback: true });
    assert.equal(result.target, `${rpUrl}/somewhere`);
    assert.equal(result.page.stoppedAt, `${rpUrl}/somewhere`);
    assert.ok(!result.hops.some((h) => h.url.endsWith('/somewhere')));
  });

  test('a second login in the same browser skips the IdP form (IdP session)', async () => {
    const browser = new Browser();
    await loginViaIdp(browser, rpUrl, { login: 'frank' });
    const again = await loginViaIdp(browser, rpUrl, { redirect: '/again' });
    assert.equal(again.page.body, '/again as frank');
    assert.ok(!again.hops.some((h) => h.method === 'POST'), 'no form submitted');
  });
});
