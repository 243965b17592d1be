// What reaches the browser from an upstream answer (issue 7 items 6 and 7, SPEC §4 item 5): the
// table in upstream-response-cases.ts, run against the production build with the cookie store,
// where an inactivity touch makes Gatehouse attach its re-sealed session cookie to the answer.
// Every row also checks that no header the browser gets names the upstream's internal port.
//
// Routes: /api=<upstream origin>, /v1=<upstream origin>/base, /lh=http://localhost:<port> (the
// same upstream under a host name, for the uppercase-host variant).
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/upstream-responses.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseCookies } from '../../lib/http/cookies';
import { readSessionCookie } from '../../lib/session/session-cookie';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { FETCH, build, get, raw, type Hdrs } from './raw-http';
import { loginFresh } from './support';
import { cases, type Ctx, type ResponseCase } from './upstream-response-cases';

/** The touch interval is timeout/20 (floor 1 s): 3 s here, and a session stays active for 60 s. */
const INACTIVITY_SECONDS = 60;
const TOUCH_INTERVAL_MS = 3_000;
const WEBSOCKET: Hdrs = [['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']];

/** A logged-in cookie whose inactivity touch is due: every request with it makes Gatehouse re-seal it.
 *  The test keeps sending this same cookie, so the touch stays due for every row. */
async function dueSession(stack: Stack, prefix: string): Promise<string> {
  const { cookie } = await loginFresh(stack.appUrl, 'cache');
  const payload = await readSessionCookie(parseCookies(cookie), prefix, stack.env.SESSION_SECRET.split(','), 3600);
  assert.equal(payload?.t, 'inline', 'a cookie-store session');
  const lastSeenAt = payload!.t === 'inline' ? payload!.s.lastSeenAt : 0;
  await eventually('the inactivity touch to be due', TOUCH_INTERVAL_MS + 5_000, () => Date.now() >= lastSeenAt + TOUCH_INTERVAL_MS + 50);
  return cookie;
}

/** The upstream's answer, as the dev upstream's /respond query. */
function respondQuery(status: number | undefined, headers: Hdrs): string {
  const q = new URLSearchParams();
  if (status !== undefined) q.set('status', String(status));
  for (const [name, value] of headers) q.append('header', `${name}:${value}`);
  return q.toString();
}

/** No header the browser gets may name the upstream's internal port (in any spelling of it). */
function assertNoInternalOrigin(headers: Hdrs, ctx: Ctx): void {
  const port = new RegExp(`:0*${ctx.port}(?![0-9])`);
  for (const [name, value] of headers) {
    assert.ok(!value.includes(`127.0.0.1:${ctx.port}`) && !port.test(value), `${name}: ${value} names the upstream's internal origin`);
  }
}

async function runCase(c: ResponseCase, ctx: Ctx): Promise<void> {
  const sent = c.upstream?.(ctx);
  const target = c.path ?? `${c.route ?? '/api'}/respond?${respondQuery(sent?.status, sent?.headers ?? [])}`;
  const headers: Hdrs = [...(c.requestHeaders ?? FETCH), ...(c.websocket ? WEBSOCKET : []), ...(c.session ? ([['Cookie', ctx.dueSession]] as Hdrs) : [])];
  const since = ctx.stack.upstream.requests.length;
  const res = await raw(ctx.stack.port, build({ ...get(target, headers) }, new URL(ctx.stack.appUrl).host));
  const lines = `${res.status}\n${res.lines.join('\n')}`;
  if (sent) {
    const received = ctx.stack.upstream.requests.slice(since).filter((r) => r.url.split('?')[0].endsWith('/respond'));
    assert.equal(received.length, 1, `the upstream answered the row once:\n${lines}`);
    assert.equal(res.status, sent.status ?? 200, `the upstream's status reaches the browser:\n${lines}`);
  } else {
    assert.ok(res.status >= 200 && res.status < 500, `Gatehouse's own page: ${lines}`);
  }
  try {
    assertNoInternalOrigin(res.headers, ctx);
    c.expect(res, ctx, sent);
  } catch (error) {
    // The exact request and answer, for the report of a row that fails.
    const shown = headers.filter(([n]) => n !== 'Cookie').map(([n, v]) => `${n}: ${v}`).join(', ');
    (error as Error).message += `\n  request: GET ${target} [${shown}]${c.session ? ' with a session whose touch is due' : ''}\n  answer: ${lines.replace(/\n/g, '\n          ')}`;
    throw error;
  }
}

describe('upstream responses toward the browser (cookie store, inactivity touch due)', { timeout: 180_000 }, () => {
  let stack: Stack;
  const ctx = {} as Ctx;

  before(async () => {
    // The routes need the upstream's port, known once the stack has started it: start the app after.
    stack = await startStack({ startApp: false });
    const { url: origin, port } = stack.upstream;
    await stack.restartApp({
      SESSION_INACTIVITY_TIMEOUT: `${INACTIVITY_SECONDS}s`,
      UPSTREAMS: `/api=${origin},/v1=${origin}/base,/lh=http://localhost:${port}`,
    });
    Object.assign(ctx, { stack, origin, port, appOrigin: new URL(stack.appUrl).origin, prefix: 'gatehouse', dueSession: await dueSession(stack, 'gatehouse') });
  });
  after(async () => {
    await stack?.close();
  });

  for (const c of cases.filter((c) => !c.prefix)) {
    test(`item ${c.item}: ${c.name}`, () => runCase(c, ctx));
  }

  /** Each app process is checked before it is replaced and at the end. */
  const assertNoErrorsLogged = () => assert.deepEqual(stack.app.logs.filter((l) => /unhandled|Internal Server Error|"level":"error"/i.test(l)), [], 'the app logged an error');

  describe('with COOKIE_PREFIX=acme', () => {
    before(async () => {
      assertNoErrorsLogged();
      await stack.restartApp({ COOKIE_PREFIX: 'acme' });
      // No row here sends a session: Gatehouse sets no cookie, so every Set-Cookie is the upstream's.
      Object.assign(ctx, { prefix: 'acme', dueSession: '' });
    });
    for (const c of cases.filter((c) => c.prefix === 'acme')) {
      test(`item ${c.item}: ${c.name}`, () => runCase(c, ctx));
    }
  });

  test('the app logged no unhandled error', () => assertNoErrorsLogged());
});
