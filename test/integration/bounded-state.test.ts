// Unauthenticated callers cannot grow memory without bound or undo a real logout (issue 7 item 4).
// The cookie store remembers ended sessions in process memory, and `/oauth2/logout/frontchannel`
// takes a `sid` from anyone (that is how front-channel logout works). It once remembered every sid
// of any length, first in first out: a flood of 8 KB sids cost hundreds of MB, and once the list
// was full the entries of real logouts were pushed out, so a copied cookie of a logged-out session
// worked again.
//
// Real logouts first — a browser's own (`/oauth2/logout/local`), an IdP back-channel logout sent by
// the dev IdP, a front-channel logout with the real sid — keeping a copy of each cookie; then
// floods of the unauthenticated logout endpoints, measuring the app process' resident memory
// (VmRSS); then the copies are replayed: still no session, and no Bearer reaches the upstream.
// A browser that never logged out is the control: it must still have its session.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/bounded-state.test.ts

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { FETCH_HEADERS, httpRequest, sessionCookieOf } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';
import { mb, rssBytes, servingPid } from './app-process';
import { callApp } from './support';

/** Most the app's resident memory may grow across one flood. */
const MAX_GROWTH_BYTES = 64 * 1024 * 1024;
/** The fixed code refuses longer sids (400) instead of remembering them. */
const MAX_SID = 512;
const FRONT_FLOOD = 20_000;
const BACK_FLOOD = 3_000;
const CONNECTIONS = 8;

interface Answer {
  status: number;
}

/** `count` requests over CONNECTIONS keep-alive connections; the status of each, by index. */
async function flood(stack: Stack, count: number, request: (i: number) => { path: string; method?: string; body?: string }): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const statuses = new Array<number>(count);
  let next = 0;
  const one = (i: number) =>
    new Promise<Answer>((resolve, reject) => {
      const r = request(i);
      const headers: http.OutgoingHttpHeaders = { accept: 'text/html' };
      if (r.body !== undefined) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        headers['content-length'] = Buffer.byteLength(r.body);
      }
      const req = http.request({ host: '127.0.0.1', port: stack.port, path: r.path, method: r.method ?? 'GET', headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
        res.on('error', reject);
      });
      req.setTimeout(10_000, () => req.destroy(new Error(`request ${i} got no answer within 10 s`)));
      req.on('error', reject);
      req.end(r.body);
    });
  const worker = async () => {
    for (let i = next++; i < count; i = next++) statuses[i] = (await one(i)).status;
  };
  try {
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  } finally {
    agent.destroy();
  }
  return statuses;
}

/** Requests whose status differs from `expected(i)`, summarised as "status for kind: count". */
function unexpected(statuses: number[], expected: (i: number) => { status: number; kind: string }): string[] {
  const wrong = new Map<string, number>();
  statuses.forEach((status, i) => {
    const e = expected(i);
    if (status !== e.status) wrong.set(`${status} instead of ${e.status} for ${e.kind}`, (wrong.get(`${status} instead of ${e.status} for ${e.kind}`) ?? 0) + 1);
  });
  return [...wrong].map(([what, n]) => `${what}: ${n} requests`);
}

/** A random sid of exactly `length` url-safe characters. */
const randomSid = (length: number) => randomBytes(Math.ceil((length * 3) / 4)).toString('base64url').slice(0, length);

describe('bounded state: floods of the logout endpoints (cookie store)', { timeout: 300_000 }, () => {
  let stack: Stack;
  /** Cookie headers copied before each real logout. */
  const copies: Record<'local' | 'backChannel' | 'frontChannel', string> = { local: '', backChannel: '', frontChannel: '' };
  /** Never logged out. */
  let control = '';
  let pid = 0;

  /** /oauth2/session status and whether the upstream got an Authorization header, for a cookie. */
  const sessionState = async (cookie: string) => {
    const session = await callApp(stack.appUrl, '/oauth2/session', cookie);
    const api = await callApp(stack.appUrl, '/api/me', cookie);
    assert.equal(api.status, 200, `the upstream through Gatehouse: ${api.status} ${api.text.slice(0, 200)}`);
    return { session: session.status, authorization: (api.json().headers as Record<string, string | undefined>).authorization ?? null };
  };
  const assertEnded = async (what: string) => {
    const state = await sessionState(copies[what as keyof typeof copies]);
    assert.deepEqual(state, { session: 401, authorization: null }, `${what}: the old cookie must give no session`);
  };
  const assertControlAlive = async () => {
    const state = await sessionState(control);
    assert.equal(state.session, 200, 'the browser that never logged out keeps its session');
    assert.match(String(state.authorization), /^Bearer \S+$/);
  };

  const login = async (name: string) => {
    const { cookie, browser } = await sessionCookieOf(stack.appUrl, { login: name });
    assert.equal((await sessionState(cookie)).session, 200, `${name} is logged in`);
    return { browser, cookie, sid: stack.idp.lastSid(name) };
  };

  before(async () => {
    stack = await startStack();
    pid = servingPid(stack.app);

    // The browser's own logout.
    const a = await login('anna');
    copies.local = a.cookie;
    const local = await a.browser.get(`${stack.appUrl}/oauth2/logout/local`, { headers: FETCH_HEADERS });
    await local.body?.cancel();
    assert.equal(local.status, 204);

    // A real back-channel logout: the dev IdP signs a logout token for B's IdP session and posts it.
    const b = await login('bert');
    assert.ok(b.sid, 'the IdP knows the sid of the login');
    copies.backChannel = b.cookie;
    await stack.idp.backchannelLogout({ clientId: stack.client.clientId, sub: 'bert', sid: b.sid });

    // A front-channel logout with the real sid, as the IdP's logout page would load it.
    const c = await login('cora');
    assert.ok(c.sid, 'the IdP knows the sid of the login');
    copies.frontChannel = c.cookie;
    const front = await httpRequest(`${stack.appUrl}/oauth2/logout/frontchannel?${new URLSearchParams({ iss: stack.idp.issuer, sid: c.sid })}`, { headers: { accept: 'text/html' } });
    await front.body?.cancel();
    assert.equal(front.status, 200);

    control = (await login('dora')).cookie;
    for (const what of Object.keys(copies)) await assertEnded(what);
  }, { timeout: 90_000 });
  after(() => stack?.close());

  test(`2 × ${FRONT_FLOOD} front-channel logouts with random sids (8 KB ones refused): memory stays bounded`, async (t) => {
    // 8 KB sids (the expensive kind), sids at the limit and just over it, and ordinary ones. The
    // 12,000 accepted ones are more than a bounded list of unproven revocations would keep, so they
    // show whether a flood can push a real logout out.
    const sidLength = (i: number) => [8_192, 8_192, 8_192, MAX_SID + 1, MAX_SID, 43, 43, 43, 43, 43][i % 10];
    const request = (i: number) => ({ path: `/oauth2/logout/frontchannel?${i % 2 ? `iss=${encodeURIComponent(stack.idp.issuer)}&` : ''}sid=${randomSid(sidLength(i))}` });
    const expected = (i: number) => (sidLength(i) > MAX_SID ? { status: 400, kind: `a ${sidLength(i)}-character sid` } : { status: 200, kind: `a ${sidLength(i)}-character sid` });

    // The same flood first, so the heap reaches the size the GC settles at for this traffic: a
    // freshly started app grows by ~200 MB over its first 10,000-20,000 requests whatever they
    // are (plain /oauth2/ping too), and that is not state. Memory kept per request grows on.
    const start = rssBytes(pid);
    const warmUp = await flood(stack, FRONT_FLOOD, request);
    const before = rssBytes(pid);
    const statuses = await flood(stack, FRONT_FLOOD, request);
    const growth = rssBytes(pid) - before;
    t.diagnostic(`RSS ${mb(start)} → ${mb(before)} (first flood) → ${mb(before + growth)} (second flood: growth ${mb(growth)})`);
    assert.deepEqual(
      [...unexpected(warmUp, expected), ...unexpected(statuses, expected), ...(growth < MAX_GROWTH_BYTES ? [] : [`RSS grew by ${mb(growth)} (limit ${mb(MAX_GROWTH_BYTES)})`])],
      [],
    );
  });

  test('after the front-channel flood, the logged-out cookies still give no session', async () => {
    for (const what of Object.keys(copies)) await assertEnded(what);
    await assertControlAlive();
  });

  test(`${BACK_FLOOD} junk back-channel logout tokens: each 400, memory stays bounded`, async (t) => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    // Shapes a stranger can send: garbage, JWT-shaped garbage with fresh key ids and jtis (a key
    // lookup, a replay cache), large tokens below the form limit, and forms over it.
    const token = (i: number): string => {
      switch (i % 5) {
        case 0:
          return randomSid(64);
        case 1:
          return `${b64({ alg: 'RS256', typ: 'logout+jwt', kid: randomSid(16) })}.${b64({ jti: randomSid(32), sid: randomSid(32), iss: stack.idp.issuer })}.${randomSid(342)}`;
        case 2:
          return `${b64({ alg: 'none', typ: 'logout+jwt' })}.${b64({ jti: randomSid(32), sid: randomSid(8_000), events: {} })}.`;
        case 3:
          return `${b64({ alg: 'HS256', kid: randomSid(16) })}.${randomSid(40_000)}.${randomSid(43)}`;
        default:
          return `${randomSid(70_000)}.${randomSid(10)}.${randomSid(10)}`;
      }
    };
    const request = (i: number) => ({ path: '/oauth2/logout/backchannel', method: 'POST', body: new URLSearchParams({ logout_token: token(i) }).toString() });

    await flood(stack, 200, request); // the front-channel floods already brought the heap to its working size
    const before = rssBytes(pid);
    const statuses = await flood(stack, BACK_FLOOD, request);
    const growth = rssBytes(pid) - before;
    t.diagnostic(`RSS ${mb(before)} → ${mb(before + growth)} (growth ${mb(growth)})`);
    assert.deepEqual(
      [...unexpected(statuses, (i) => ({ status: 400, kind: `junk token shape ${i % 5}` })), ...(growth < MAX_GROWTH_BYTES ? [] : [`RSS grew by ${mb(growth)} (limit ${mb(MAX_GROWTH_BYTES)})`])],
      [],
    );
  });

  test('after both floods, the logged-out cookies still give no session, and the app is sound', async () => {
    for (const what of Object.keys(copies)) await assertEnded(what);
    await assertControlAlive();
    assert.deepEqual(stack.app.logs.filter((l) => /unhandled|Internal Server Error|"level":"error"|heap out of memory/i.test(l)), []);
  });
});
