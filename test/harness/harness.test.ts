// Self-test of the integration harness, without the app: the dev IdP (code flow with PKCE by hand,
// refresh rotation and replay, PAR, RP-initiated + back-channel logout), the recording upstream,
// the cookie-jar browser and the throwaway Redis. If these fail, app tests cannot be trusted.
//
//   node --import tsx --test test/harness/harness.test.ts

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { Redis } from 'ioredis';
import { demoClient, startIdp, type Idp } from '../../dev/idp';
import { startUpstream, type Upstream } from '../../dev/upstream';
import { Browser, loginViaIdp, logoutViaIdp, parseForms } from './http';
import { freePort } from './ports';
import { startApp, startAppExpectingFailure } from './app';
import { startRedis } from './redis';

const REDIRECT_URI = 'http://127.0.0.1:1/cb'; // never fetched: following stops before it
const POST_LOGOUT_URI = 'http://127.0.0.1:1/logged-out';
const CLIENT_ID = 'harness-client';
const CLIENT_SECRET = 'harness-secret-0123456789abcdefghij';
const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
const stopAtRp = (u: URL) => u.origin === 'http://127.0.0.1:1';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  error?: string;
}

describe('dev IdP', () => {
  let idp: Idp;
  let upstream: Upstream;
  const browser = new Browser();
  let tokens: TokenResponse;

  before(async () => {
    // The upstream doubles as the back-channel logout receiver: it records the POST.
    upstream = await startUpstream();
    idp = await startIdp({
      accessTokenTtlSeconds: 120,
      clients: [
        {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUris: [REDIRECT_URI],
          postLogoutRedirectUris: [POST_LOGOUT_URI],
          backchannelLogoutUri: `${upstream.url}/backchannel`,
        },
      ],
    });
  });
  after(async () => {
    await idp?.close();
    await upstream?.close();
  });

  const token = async (params: Record<string, string>): Promise<{ status: number; body: TokenResponse }> => {
    const res = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });
    return { status: res.status, body: (await res.json()) as TokenResponse };
  };

  test('discovery advertises what Gatehouse relies on', async () => {
    const meta = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(meta.issuer, idp.issuer);
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.ok(meta.pushed_authorization_request_endpoint);
    assert.ok(meta.end_session_endpoint);
    assert.equal(meta.backchannel_logout_supported, true);
  });

  test('PKCE is required', async () => {
    const u = new URL(`${idp.issuer}/auth`);
    u.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: REDIRECT_URI,
      state: 's',
    }).toString();
    const page = await new Browser().follow(u, { stopAt: stopAtRp });
    assert.ok(page.stoppedAt, `expected an error redirect, got ${page.status}`);
    const back = new URL(page.stoppedAt);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description') ?? '', /PKCE/);
  });

  test('authorization code flow: login form, no consent, code + iss back, tokens with claims', async () => {
    const { verifier, challenge } = pkce();
    const state = randomBytes(8).toString('hex');
    const nonce = randomBytes(8).toString('hex');
    const u = new URL(`${idp.issuer}/auth`);
    u.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      scope: 'openid profile email offline_access',
      redirect_uri: REDIRECT_URI,
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();

    const loginPage = await browser.follow(u, { stopAt: stopAtRp });
    assert.equal(loginPage.status, 200);
    const form = parseForms(loginPage.body, loginPage.url).find((f) => f.fields.prompt === 'login');
    assert.ok(form, 'devInteractions login form');
    assert.doesNotMatch(loginPage.body, /fonts\.googleapis/, 'offline-hostile font import stripped');

    const back = await browser.submit(form, { login: 'alice', password: 'whatever' }, { stopAt: stopAtRp });
    assert.ok(back.stoppedAt, `expected the redirect to the RP, hops:\n${JSON.stringify(back.hops, null, 1)}`);
    const cb = new URL(back.stoppedAt);
    assert.equal(cb.origin + cb.pathname, REDIRECT_URI);
    assert.equal(cb.searchParams.get('state'), state);
    assert.equal(cb.searchParams.get('iss'), idp.issuer, 'RFC 9207 iss');
    const code = cb.searchParams.get('code');
    assert.ok(code);
    assert.ok(!back.hops.some((h) => /consent/i.test(h.url)), 'no consent screen');
    assert.equal(idp.authorizationRequests.at(-1)?.code_challenge, challenge);

    const res = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    tokens = res.body;
    assert.ok(tokens.access_token && tokens.refresh_token && tokens.id_token);
    assert.equal(tokens.expires_in, 120);
    const claims = decodeJwt(tokens.id_token);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.name, 'Alice Demo');
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(claims.nonce, nonce);
    assert.ok(typeof claims.sid === 'string', 'sid in id_token');
    assert.equal(idp.lastSid('alice'), claims.sid);
    assert.equal(idp.grants.authorizationCodeGrants, 1);
    assert.equal(idp.grants.refreshGrants, 0);
  });

  test('refresh rotates; replaying a used refresh token revokes the grant', async () => {
    const first = tokens.refresh_token!;
    const r1 = await token({ grant_type: 'refresh_token', refresh_token: first });
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    assert.ok(r1.body.refresh_token && r1.body.refresh_token !== first, 'rotated');
    assert.equal(idp.grants.refreshGrants, 1);

    const replay = await token({ grant_type: 'refresh_token', refresh_token: first });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.equal(idp.grants.refreshGrantErrors, 1);

    const afterRevoke = await token({ grant_type: 'refresh_token', refresh_token: r1.body.refresh_token! });
    assert.equal(afterRevoke.body.error, 'invalid_grant', 'whole grant revoked');
    assert.equal(idp.grants.refreshGrants, 1);
  });

  test('injected token endpoint faults and delays', async () => {
    idp.failTokenRequests(1, 503);
    const failed = await token({ grant_type: 'refresh_token', refresh_token: 'x' });
    assert.equal(failed.status, 503);
    assert.equal(failed.body.error, 'temporarily_unavailable');
    const next = await token({ grant_type: 'refresh_token', refresh_token: 'x' });
    assert.equal(next.status, 400, 'fault used up');
    idp.delayTokenRequests(200);
    const t0 = Date.now();
    await token({ grant_type: 'refresh_token', refresh_token: 'x' });
    assert.ok(Date.now() - t0 >= 190);
    idp.delayTokenRequests(0);
  });

  test('PAR with prompt=select_account (treated as login) in the same browser', async () => {
    const { verifier, challenge } = pkce();
    const par = await fetch(`${idp.issuer}/request`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: CLIENT_ID,
        response_type: 'code',
        scope: 'openid profile',
        redirect_uri: REDIRECT_URI,
        state: 'par-state',
        prompt: 'select_account',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    });
    assert.equal(par.status, 201, await par.clone().text());
    const { request_uri } = (await par.json()) as { request_uri: string };
    assert.equal(idp.authorizationRequests.at(-1)?.prompt, 'select_account', 'recorded as sent');

    const u = new URL(`${idp.issuer}/auth`);
    u.search = new URLSearchParams({ client_id: CLIENT_ID, request_uri }).toString();
    const page = await browser.follow(u, { stopAt: stopAtRp });
    const form = parseForms(page.body, page.url).find((f) => f.fields.prompt === 'login');
    assert.ok(form, 'select_account shows the login form again');
    const back = await browser.submit(form, { login: 'bob', password: 'x' }, { stopAt: stopAtRp });
    const code = new URL(back.stoppedAt!).searchParams.get('code')!;
    const res = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
    assert.equal(res.status, 200);
    assert.equal(decodeJwt(res.body.id_token!).sub, 'bob');
    tokens = res.body;
    // oidc-provider ends the IdP session of the previous account (alice) when another one logs in
    // over it — including back-channel logout for alice. Tests logging in as several users in one
    // Browser should expect that.
    assert.equal(idp.endSessions, 1);
    assert.deepEqual(idp.backchannelLogouts.map((b) => [b.sub, b.ok]), [['alice', true]]);
  });

  test('RP-initiated logout auto-confirms and delivers back-channel logout to loopback', async () => {
    const u = new URL(`${idp.issuer}/session/end`);
    u.search = new URLSearchParams({
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: POST_LOGOUT_URI,
      state: 'bye',
    }).toString();
    const page = await browser.follow(u, { stopAt: stopAtRp });
    assert.ok(page.stoppedAt, `expected redirect to post-logout URI, hops:\n${JSON.stringify(page.hops, null, 1)}`);
    const back = new URL(page.stoppedAt);
    assert.equal(back.origin + back.pathname, POST_LOGOUT_URI);
    assert.equal(back.searchParams.get('state'), 'bye');
    assert.equal(idp.endSessions, 2);

    assert.deepEqual(idp.backchannelLogouts.map((b) => [b.clientId, b.sub, b.ok]).at(-1), [CLIENT_ID, 'bob', true]);
    const delivered = upstream.last('/backchannel');
    assert.ok(delivered, 'logout token POSTed to the loopback upstream');
    const logoutToken = new URLSearchParams(delivered.body.toString()).get('logout_token')!;
    const claims = decodeJwt(logoutToken);
    assert.equal(claims.sub, 'bob');
    assert.ok(claims.sid);
    assert.ok((claims.events as Record<string, unknown>)['http://schemas.openid.net/event/backchannel-logout']);
  });

  test('IdP-initiated back-channel logout on demand', async () => {
    const countBefore = upstream.requests.length;
    await idp.backchannelLogout({ clientId: CLIENT_ID, sub: 'carol', sid: 'sid-123' });
    assert.equal(upstream.requests.length, countBefore + 1);
    const claims = decodeJwt(new URLSearchParams(upstream.last('/backchannel')!.body.toString()).get('logout_token')!);
    assert.equal(claims.sid, 'sid-123');
    assert.equal(claims.aud, CLIENT_ID);
  });
});

test('resource indicators (RFC 8707): JWT access token for an allowed resource, invalid_target otherwise', async () => {
  const resource = 'https://api.example.test';
  const idp = await startIdp({
    resourceIndicators: [resource],
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [] }],
  });
  try {
    const browser = new Browser();
    const authorize = async (res: string) => {
      const { verifier, challenge } = pkce();
      const u = new URL(`${idp.issuer}/auth`);
      u.search = new URLSearchParams({
        client_id: CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI,
        state: 's', code_challenge: challenge, code_challenge_method: 'S256', resource: res,
      }).toString();
      let page = await browser.follow(u, { stopAt: stopAtRp });
      const form = parseForms(page.body, page.url).find((f) => f.fields.prompt === 'login');
      if (form) page = await browser.submit(form, { login: 'gina', password: 'x' }, { stopAt: stopAtRp });
      return { back: new URL(page.stoppedAt!), verifier };
    };
    const denied = await authorize('https://elsewhere.test');
    assert.equal(denied.back.searchParams.get('error'), 'invalid_target');

    const { back, verifier } = await authorize(resource);
    const tr = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
    });
    const t = (await tr.json()) as TokenResponse;
    assert.equal(tr.status, 200, JSON.stringify(t));
    assert.equal(decodeJwt(t.access_token!).aud, resource);
  } finally {
    await idp.close();
  }
});

describe('demo upstream', () => {
  let upstream: Upstream;
  before(async () => {
    upstream = await startUpstream();
  });
  after(async () => {
    await upstream?.close();
  });

  test('echoes and records what it received', async () => {
    const res = await fetch(`${upstream.url}/users/1?x=2`, {
      method: 'POST',
      headers: { authorization: 'Bearer abc', 'content-type': 'text/plain' },
      body: 'hello',
    });
    const echo = (await res.json()) as { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body: string };
    assert.equal(echo.method, 'POST');
    assert.equal(echo.path, '/users/1');
    assert.deepEqual(echo.query, { x: '2' });
    assert.equal(echo.headers.authorization, 'Bearer abc');
    assert.equal(echo.body, 'hello');
    const rec = upstream.last('/users/1')!;
    assert.equal(rec.url, '/users/1?x=2');
    assert.equal(rec.body.toString(), 'hello');
    assert.ok(rec.rawHeaders.includes('Bearer abc'));
  });

  test('Browser sends navigation headers verbatim (global fetch would force sec-fetch-mode: cors)', async () => {
    const page = await new Browser().follow(`${upstream.url}/nav`);
    assert.equal(page.status, 200);
    const rec = upstream.last('/nav')!;
    assert.equal(rec.headers['sec-fetch-mode'], 'navigate');
    assert.equal(rec.headers['sec-fetch-dest'], 'document');
    assert.match(String(rec.headers.accept), /text\/html/);
  });

  test('status, set-cookie, slow, echo-body', async () => {
    assert.equal((await fetch(`${upstream.url}/status/418`)).status, 418);
    assert.equal((await fetch(`${upstream.url}/status/204`)).status, 204);
    const sc = await fetch(`${upstream.url}/set-cookie`);
    assert.deepEqual(sc.headers.getSetCookie(), ['upstream=1; Path=/']);
    const t0 = Date.now();
    assert.equal((await fetch(`${upstream.url}/slow?ms=150`)).status, 200);
    assert.ok(Date.now() - t0 >= 140);
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const eb = await fetch(`${upstream.url}/echo-body`, { method: 'POST', body: big });
    assert.equal(eb.headers.get('x-received-bytes'), String(big.length));
    assert.deepEqual(await eb.json(), { bytes: big.length });
  });

  test('/hang never answers (until the client gives up)', async () => {
    await assert.rejects(fetch(`${upstream.url}/hang`, { signal: AbortSignal.timeout(200) }), /abort|timeout/i);
  });

  test('/sse streams 3 events ~100 ms apart', async () => {
    const res = await fetch(`${upstream.url}/sse`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const arrivals: number[] = [];
    let text = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      arrivals.push(Date.now());
      text += decoder.decode(chunk, { stream: true });
    }
    assert.equal(text.match(/^data: /gm)?.length, 3);
    assert.ok(arrivals.length >= 3, 'events arrive as separate chunks');
    assert.ok(arrivals.at(-1)! - arrivals[0] >= 150, 'spread over time');
  });

  test('/ws upgrade: handshake, one text frame with the headers, close', async () => {
    const key = randomBytes(16).toString('base64');
    const { accept, frames } = await new Promise<{ accept: string; frames: Buffer }>((resolve, reject) => {
      const req = http.request(`${upstream.url}/ws`, {
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-version': '13',
          'sec-websocket-key': key,
          authorization: 'Bearer ws-token',
        },
      });
      req.on('upgrade', (res, socket, head) => {
        const chunks: Buffer[] = [head];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('end', () => resolve({ accept: String(res.headers['sec-websocket-accept']), frames: Buffer.concat(chunks) }));
        socket.on('error', reject);
      });
      req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    assert.equal(accept, createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64'));
    assert.equal(frames[0], 0x81, 'FIN + text');
    const len = frames[1] === 126 ? frames.readUInt16BE(2) : frames[1];
    const start = frames[1] === 126 ? 4 : 2;
    const payload = JSON.parse(frames.subarray(start, start + len).toString()) as { headers: Record<string, string> };
    assert.equal(payload.headers.authorization, 'Bearer ws-token');
    assert.equal(frames[start + len], 0x88, 'close frame follows');
    assert.equal(upstream.last('/ws')?.upgrade, true);
  });
});

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

describe('app process harness (with a stand-in for server.ts)', () => {
  test('startApp: production env, readiness, logs, SIGTERM', async () => {
    const app = await startApp({ EXTRA: 'yes' }, { entry: 'test/harness/fake-app.ts' });
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
    const r = await startAppExpectingFailure({ FAKE_APP_FAIL: 'SESSION_SECRET is too short' }, { entry: 'test/harness/fake-app.ts' });
    assert.equal(r.code, 1);
    assert.match(r.output, /SESSION_SECRET is too short/);
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
