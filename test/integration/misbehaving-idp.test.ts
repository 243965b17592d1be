// An IdP that misbehaves (SPEC §5 "Refresh", §6, §7; lib/actions/callback.ts, lib/oidc/client.ts):
// unreachable, slow, answering garbage or refusing, a discovery document for another issuer, a
// rotated signing key. A login never ends in a 500 or a session by accident: 502 page when the
// IdP failed to answer properly, 400 when it refused; discovery failures are not cached; a failed
// refresh keeps the old tokens.
//
// The real dev IdP runs on 127.0.0.2:PORT with the issuer http://127.0.0.1:PORT; in front of it, on
// 127.0.0.1:PORT, sits `Front`, a small proxy the test controls: not listening at all (IdP down),
// forwarding, answering chosen requests itself, rewriting responses, or swapping the IdP behind it.
// One app serves every test, in order: the first finds the IdP down, the last rotates the key.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/misbehaving-idp.test.ts

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createPrivateKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startIdp, type Idp } from '../../dev/idp';
import { Browser, FETCH_HEADERS, loginViaIdp } from '../harness/http';
import { freePort } from '../harness/ports';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { NAV, SESSION_COOKIE, apiCall, assertNoStack, lastIssued, loginUpToCallback, recordIssuedTokens, sessionCookiesSet, type ApiCall, type Issued } from './support';

const DISCOVERY = '/.well-known/openid-configuration';
/** Access tokens live 30 s: a session is due for a refresh after its 15 s cooldown (SPEC §3) and the
 *  old token is still valid while the refresh tests below run (one of them waits out the 5 s timeout). */
const TOKEN_TTL_SECONDS = 30;
/** A bound on hanging, not a timing assertion: IdP calls time out after 5 s. */
const HANG_BOUND_MS = 15_000;

/** What Front does with a request instead of forwarding it. */
type Answer = { status: number; type: string; body: string } | 'hang' | 'reset';
interface Seen { method: string; path: string; grantType?: string; at: number }

interface Front {
  url: string;
  seen: Seen[];
  answer?: (r: Seen) => Answer | undefined;
  /** Rewrites the body of forwarded responses (buffered). */
  rewrite?: (path: string, body: string) => string;
  /** Where requests go: the IdP currently behind Front. */
  backend: { host: string; port: number };
  count(path: string, grantType?: string): number;
  listen(): Promise<void>;
  close(): Promise<void>;
}

function createFront(port: number, backend: Front['backend']): Front {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0];
      const seen: Seen = { method: req.method ?? 'GET', path, at: Date.now() };
      if (req.method === 'POST') seen.grantType = new URLSearchParams(body.toString('utf8')).get('grant_type') ?? undefined;
      front.seen.push(seen);
      const answer = front.answer?.(seen);
      if (answer === 'hang') return; // never answers: the client gives up (or close() cuts it)
      if (answer === 'reset') return void req.socket.destroy();
      if (answer) {
        res.writeHead(answer.status, { 'content-type': answer.type, 'cache-control': 'no-store' });
        return void res.end(answer.body);
      }
      // A fresh connection each (agent: false): after the IdP behind Front is restarted, a pooled
      // connection to the old one could still be picked and fail the next login with a 502.
      const out = http.request({ ...front.backend, agent: false, method: req.method, path: req.url, headers: { ...req.headers, connection: 'close' } }, (upstream) => {
        const parts: Buffer[] = [];
        upstream.on('data', (c: Buffer) => parts.push(c));
        upstream.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          const rewritten = Buffer.from(front.rewrite ? front.rewrite(path, text) : text, 'utf8');
          const headers = { ...upstream.headers, 'content-length': String(rewritten.length) };
          delete headers['transfer-encoding'];
          res.writeHead(upstream.statusCode ?? 502, headers);
          res.end(rewritten);
        });
      });
      out.on('error', () => req.socket.destroy());
      out.end(body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const front: Front = {
    url: `http://127.0.0.1:${port}`,
    seen: [],
    backend,
    count: (path, grantType) => front.seen.filter((s) => s.path === path && (grantType === undefined || s.grantType === grantType)).length,
    listen: () => new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve())),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return front;
}

/** A private RS256 signing JWK (through PEM: see dev/idp.ts on Node 20's JWK export). */
function signingKey(kid: string): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { ...(createPrivateKey(privateKey).export({ format: 'jwk' }) as Record<string, unknown>), kid, alg: 'RS256', use: 'sig' };
}

interface Answered { status: number; headers: Headers; body: string; ms: number }

async function timedGet(browser: Browser, url: string | URL): Promise<Answered> {
  const started = Date.now();
  const res = await browser.get(url, { headers: NAV, signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, ms: Date.now() - started };
}

/** The built-in error page with `status`: HTML, the correlation id, no stack, no session cookie set. */
function assertErrorPage(a: Answered, status: number, what: string): void {
  assert.equal(a.status, status, `${what}: status ${a.status}, body ${a.body.slice(0, 300)}`);
  assert.match(a.headers.get('content-type') ?? '', /^text\/html/, `${what}: an HTML page`);
  const id = a.headers.get('x-request-id');
  assert.ok(id, `${what}: X-Request-Id`);
  assert.equal(/<[^>]*\bid="correlation-id"[^>]*>([^<]*)</.exec(a.body)?.[1], id, `${what}: #correlation-id shows the request id`);
  assertNoStack(a.body);
  assert.deepEqual(sessionCookiesSet(a.headers), [], `${what}: no session cookie set`);
  assert.ok(a.ms < HANG_BOUND_MS, `${what}: answered after ${a.ms} ms`);
}

const loginCookies = (browser: Browser, app: string) => browser.cookiesFor(app).filter((c) => c.name.startsWith('gatehouse.login.'));

async function sessionStatus(browser: Browser, app: string): Promise<{ status: number; cooldown?: boolean }> {
  const res = await browser.get(`${app}/oauth2/session`, { headers: FETCH_HEADERS });
  const text = await res.text();
  return { status: res.status, cooldown: res.status === 200 ? (JSON.parse(text) as { tokens: { refresh_cooldown: boolean } }).tokens.refresh_cooldown : undefined };
}

describe('a misbehaving IdP', () => {
  let stack: Stack;
  let front: Front;
  let app: string;
  let issued: Issued[];
  let rotated: Idp | undefined;
  const oldKey = signingKey(`old-${randomUUID().slice(0, 8)}`);
  const idpOptions = (port: number) => ({ host: '127.0.0.2', port, issuerHost: '127.0.0.1', accessTokenTtlSeconds: TOKEN_TTL_SECONDS });

  before(async () => {
    const port = await freePort();
    // Front is created but not listening: the app starts with its IdP unreachable.
    front = createFront(port, { host: '127.0.0.2', port });
    stack = await startStack({ idp: { ...idpOptions(port), jwks: { keys: [oldKey] } }, env: { SESSION_REFRESH_BEFORE: '30s' } });
    assert.equal(stack.idp.issuer, front.url, 'the IdP names Front as its issuer');
    app = stack.appUrl;
    issued = recordIssuedTokens(stack.idp);
  });
  after(async () => {
    await stack?.close();
    await rotated?.close();
    await front?.close();
  });

  test('discovery failures (unreachable, wrong issuer, not JSON, 503) give the 502 page and are not cached', async () => {
    const pid = stack.app.process.pid;
    const onDiscovery = (a: Answer) => (r: Seen) => (r.path === DISCOVERY ? a : undefined);
    const failures: Array<[string, () => Promise<void> | void]> = [
      ['IdP not listening', () => undefined],
      [
        'discovery names another issuer',
        async () => {
          await front.listen();
          front.rewrite = (path, body) => (path === DISCOVERY ? JSON.stringify({ ...JSON.parse(body), issuer: 'http://127.0.0.1:1/someone-else' }) : body);
        },
      ],
      [
        'discovery is an HTML page',
        () => {
          front.rewrite = undefined;
          front.answer = onDiscovery({ status: 200, type: 'text/html', body: '<!DOCTYPE html><html><body>Down for maintenance</body></html>' });
        },
      ],
      ['discovery answers 503', () => void (front.answer = onDiscovery({ status: 503, type: 'application/json', body: '{"error":"temporarily_unavailable"}' }))],
    ];
    for (const [what, arrange] of failures) {
      await arrange();
      const asked = front.count(DISCOVERY);
      const browser = new Browser();
      const a = await timedGet(browser, `${app}/oauth2/login?redirect=/api/after`);
      assertErrorPage(a, 502, what);
      assert.equal(a.headers.get('location'), null, `${what}: no redirect to the IdP`);
      assert.deepEqual(loginCookies(browser, app), [], `${what}: no login cookie`);
      if (what !== 'IdP not listening') assert.ok(front.count(DISCOVERY) > asked, `${what}: the app asked again (the earlier failure was not cached)`);
    }

    // The IdP is back: the very next login works, in the same process.
    front.answer = undefined;
    const browser = new Browser();
    const done = await loginViaIdp(browser, app, { redirect: '/api/after' });
    assert.equal(done.callback.status, 302);
    assert.equal(done.callback.location, '/api/after');
    assert.equal((await sessionStatus(browser, app)).status, 200, 'logged in');
    assert.equal(stack.app.process.pid, pid, 'without restarting Gatehouse');
  });

  test('token endpoint failures at the code exchange: 502 when the IdP answers garbage or 5xx, 400 for invalid_grant', async () => {
    const { idp } = stack;
    const onCodeGrant = (a: Answer) => () => void (front.answer = (r) => (r.method === 'POST' && r.grantType === 'authorization_code' ? a : undefined));
    const cases: Array<{ what: string; arrange: () => void; status: number }> = [
      { what: '500 JSON', arrange: () => idp.failTokenRequests(1, 500, { error: 'server_error', error_description: 'boom' }), status: 502 },
      { what: '503 JSON', arrange: () => idp.failTokenRequests(1, 503), status: 502 },
      { what: '200 with an HTML body', arrange: onCodeGrant({ status: 200, type: 'text/html', body: '<!DOCTYPE html><html><body>Welcome!</body></html>' }), status: 502 },
      { what: '502 HTML from a gateway', arrange: onCodeGrant({ status: 502, type: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }), status: 502 },
      { what: 'connection reset', arrange: onCodeGrant('reset'), status: 502 },
      { what: 'invalid_grant', arrange: () => idp.failTokenRequests(1, 400, { error: 'invalid_grant', error_description: 'code already used' }), status: 400 },
    ];
    let last: Browser | undefined;
    for (const c of cases) {
      const browser = new Browser();
      const { callback } = await loginUpToCallback(browser, app, idp, '/api/after');
      assert.equal(loginCookies(browser, app).length, 1, `${c.what}: a login cookie before the callback`);
      const tokenRequests = front.count('/token', 'authorization_code');
      const grants = idp.grants.authorizationCodeGrants;
      c.arrange();
      let a: Answered;
      try {
        a = await timedGet(browser, callback);
      } finally {
        idp.failTokenRequests(0);
        front.answer = undefined;
      }
      assert.equal(front.count('/token', 'authorization_code'), tokenRequests + 1, `${c.what}: one code exchange`);
      assert.equal(idp.grants.authorizationCodeGrants, grants, `${c.what}: the IdP issued no tokens`);
      assertErrorPage(a, c.status, c.what);
      assert.deepEqual(loginCookies(browser, app), [], `${c.what}: the login cookie is cleared`);
      assert.equal((await sessionStatus(browser, app)).status, 401, `${c.what}: no session`);
      last = browser;
    }
    // Trying again (the page's retry link restarts the login) works in the same browser.
    const again = await loginViaIdp(last!, app, { redirect: '/api/after' });
    assert.equal(again.callback.location, '/api/after');
    assert.equal((await sessionStatus(last!, app)).status, 200);
  });

  test('a token endpoint slower than 5 s gives 502 without hanging; 1 s still logs in', async () => {
    const { idp } = stack;
    const slow = new Browser();
    const { callback } = await loginUpToCallback(slow, app, idp, '/api/after');
    idp.delayTokenRequests(6_000);
    let a: Answered;
    try {
      a = await timedGet(slow, callback);
    } finally {
      idp.delayTokenRequests(0);
    }
    assertErrorPage(a, 502, 'token endpoint 6 s');
    assert.equal((await sessionStatus(slow, app)).status, 401, 'no session');

    const patient = new Browser();
    const next = await loginUpToCallback(patient, app, idp, '/api/after');
    idp.delayTokenRequests(1_000);
    let ok: Answered;
    try {
      ok = await timedGet(patient, next.callback);
    } finally {
      idp.delayTokenRequests(0);
    }
    assert.equal(ok.status, 302, `token endpoint 1 s: ${ok.body.slice(0, 200)}`);
    assert.equal(ok.headers.get('location'), '/api/after');
    assert.ok(ok.ms >= 900, `the delay was in effect (${ok.ms} ms)`);
    assert.equal((await sessionStatus(patient, app)).status, 200, 'logged in');
  });

  test('refresh failures that are transient (non-JSON 200, non-conform JSON, no answer) keep the old Bearer and the session', async () => {
    const { idp } = stack;
    const browser = new Browser();
    await loginViaIdp(browser, app);
    const oldToken = lastIssued(issued, 'authorization_code')!.access_token!;
    await eventually('the refresh cooldown to end', (TOKEN_TTL_SECONDS + 5) * 1000, async () => {
      const s = await sessionStatus(browser, app);
      assert.equal(s.status, 200, 'the session should still exist');
      return s.cooldown === false;
    }, { maxDelayMs: 500 });
    const grants = idp.grants.refreshGrants;
    const faults: Array<[string, Answer]> = [
      ['200 with an HTML body', { status: 200, type: 'text/html; charset=utf-8', body: '<!DOCTYPE html><html><body>Please log in</body></html>' }],
      ['200 JSON that is no token response', { status: 200, type: 'application/json', body: '{"status":"ok"}' }],
      ['no answer within 5 s', 'hang'],
    ];
    for (const [what, answer] of faults) {
      const attempts = front.count('/token', 'refresh_token');
      front.answer = (r) => (r.method === 'POST' && r.grantType === 'refresh_token' ? answer : undefined);
      const started = Date.now();
      let call: ApiCall;
      try {
        call = await apiCall(browser, app, '/api/during-outage');
      } finally {
        front.answer = undefined;
      }
      const ms = Date.now() - started;
      assert.equal(front.count('/token', 'refresh_token'), attempts + 1, `${what}: the request tried to refresh`);
      assert.equal(call.bearer, oldToken, `${what}: forwarded with the old Bearer`);
      assert.ok(ms < HANG_BOUND_MS, `${what}: answered after ${ms} ms`);
      assert.deepEqual(call.setCookies.filter((l) => l.startsWith(`${SESSION_COOKIE}=`) && /max-age=0/i.test(l)), [], `${what}: the session cookie is not cleared`);
      assert.equal((await sessionStatus(browser, app)).status, 200, `${what}: the session stays`);
    }
    const stillValid = await fetch(`${front.url}/me`, { headers: { authorization: `Bearer ${oldToken}` } });
    await stillValid.body?.cancel();
    assert.equal(stillValid.status, 200, 'the old token was still valid at the IdP while it was forwarded');

    // The IdP answers properly again: the next request gets fresh tokens, the grant is intact.
    const errors = idp.grants.refreshGrantErrors;
    const fresh = await apiCall(browser, app, '/api/after-outage');
    assert.equal(idp.grants.refreshGrants, grants + 1, 'one refresh grant');
    assert.equal(idp.grants.refreshGrantErrors, errors);
    assert.notEqual(fresh.bearer, oldToken);
    assert.equal(fresh.bearer, lastIssued(issued, 'refresh_token')!.access_token);
  });

  test('after a signing key rotation a new login works (at the latest on "try again": the JWKS is fetched again)', async () => {
    const jwksPath = stack.idp.provider.pathFor('jwks');
    assert.ok(front.seen.some((s) => s.path === jwksPath), 'the app fetched the JWKS during the earlier logins');

    const port = Number(new URL(front.url).port);
    const newKey = signingKey(`new-${randomUUID().slice(0, 8)}`);
    await stack.idp.close();
    // The new key signs; the old one is still published, as an IdP rotating its keys does.
    rotated = await startIdp({ ...idpOptions(port), clients: [stack.client], jwks: { keys: [newKey, oldKey] } });
    const rotatedIssued = recordIssuedTokens(rotated);
    const jwksFetches = front.count(jwksPath);

    // openid-client refetches a JWKS for an unknown kid only once its copy is a minute old, so the
    // first login after the rotation may be refused (400 page); Gatehouse then discovers afresh and
    // "try again" must work.
    const browser = new Browser();
    let done = await loginViaIdp(browser, app, { redirect: '/api/after-rotation' });
    if (done.callback.status !== 302) {
      assert.equal(done.callback.status, 400, `first attempt: ${done.page.body.slice(0, 300)}`);
      done = await loginViaIdp(browser, app, { redirect: '/api/after-rotation' });
    }
    const idToken = lastIssued(rotatedIssued, 'authorization_code')?.id_token;
    assert.ok(idToken, 'the rotated IdP issued the tokens');
    assert.equal(JSON.parse(Buffer.from(idToken.split('.')[0], 'base64url').toString('utf8')).kid, newKey.kid, 'signed with the new key');
    assert.equal(done.callback.status, 302, `callback: ${done.page.body.slice(0, 300)}`);
    assert.equal(done.callback.location, '/api/after-rotation');
    assert.ok(front.count(jwksPath) > jwksFetches, 'the app fetched the JWKS again');
    assert.equal((await sessionStatus(browser, app)).status, 200, 'logged in');
    assert.equal((await apiCall(browser, app)).bearer, lastIssued(rotatedIssued, 'authorization_code')!.access_token);
  });
});
