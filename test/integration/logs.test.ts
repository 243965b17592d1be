// Log lines of the production build (issue 10 item 1; SPEC §7, §11): every line is JSON with
// `time`, `level` as a word and `msg`; each line of a request carries its correlation id from the
// request context (the server, proxy.ts and a route handler alike); ACCESS_LOG=true writes one
// line per request with the route's label, never its raw path; requests carrying credentials that
// end on an error path are logged with their headers and query, and none of the credentials is
// in the output; errors are written with type, message, stack and cause chain.
//
//   NEXT_DIST_DIR=.next-pino node --import tsx --test test/integration/logs.test.ts

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Browser, FETCH_HEADERS, NAVIGATION_HEADERS, httpRequest, loginViaIdp } from '../harness/http';
import { freePort } from '../harness/ports';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';

type Line = Record<string, unknown>;

/** Every credential sent below starts with this: one search finds any that reached the log. */
const SECRET = `SECRET-${randomUUID()}`;

describe('log lines of the production build', { timeout: 120_000 }, () => {
  let stack: Stack;
  let closedPort: number;
  before(async () => {
    closedPort = await freePort();
    stack = await startStack({ startApp: false });
    await stack.restartApp({ ACCESS_LOG: 'true', LOG_LEVEL: 'debug', UPSTREAMS: `/api=${stack.upstream.url},/down=http://127.0.0.1:${closedPort}` });
    await loginViaIdp(new Browser(), stack.appUrl);
  }, { timeout: 60_000 });
  after(() => stack?.close());

  const linesOf = (id: string) => stack.app.jsonLogs().filter((l) => l.correlation_id === id);
  const accessLinesOf = (id: string) => linesOf(id).filter((l) => l.msg === 'request');

  /** One request with its own X-Request-Id; resolves once the app has written its access line. */
  async function send(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
    const id = `logs-${randomUUID()}`;
    const res = await httpRequest(`${stack.appUrl}${path}`, { method: init.method, body: init.body, headers: { ...FETCH_HEADERS, ...init.headers, 'x-request-id': id } });
    await res.arrayBuffer();
    await eventually(`the access-log line of ${path}`, 5_000, () => accessLinesOf(id).length > 0, { detail: () => stack.app.logs.slice(-20).join('\n') });
    return { id, status: res.status };
  }

  test('every line the app writes is JSON with an ISO time, a level word and a msg, Next.js\'s own included', () => {
    assert.ok(stack.app.logs.length > 5, 'the login wrote lines');
    const next = stack.app.jsonLogs().find((l) => /Running next\.config/.test(String(l.msg)));
    assert.deepEqual([next?.level, next?.source], ['info', 'console'], 'what Next.js prints at startup is a log line');
    for (const text of stack.app.logs) {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        assert.fail(`not a JSON line: ${text}`);
      }
      assert.ok(['debug', 'info', 'warn', 'error'].includes(String(line.level)), `level ${line.level} in ${text}`);
      assert.equal(new Date(String(line.time)).toISOString(), line.time, `time in ${text}`);
      assert.equal(typeof line.msg, 'string', `msg in ${text}`);
      assert.ok(!('pid' in line) && !('hostname' in line), `no pid or hostname in ${text}`);
    }
  });

  test('the login was logged with a correlation id on each of its lines', () => {
    const login = stack.app.jsonLogs().filter((l) => l.msg === 'login started' || l.msg === 'login completed');
    assert.deepEqual(login.map((l) => l.msg), ['login started', 'login completed']);
    for (const line of login) assert.match(String(line.correlation_id), /^[0-9a-f-]{36}$/);
  });

  test('correlation_id comes from the request context: proxy.ts, a route handler and the server all carry it', async () => {
    const page = await send('/', { headers: NAVIGATION_HEADERS });
    assert.deepEqual(linesOf(page.id).map((l) => l.msg), ['page gate', 'request']); // proxy.ts (debug), then the server
    const login = await send('/oauth2/login', { headers: NAVIGATION_HEADERS });
    assert.equal(login.status, 302);
    assert.deepEqual(linesOf(login.id).map((l) => l.msg), ['login started', 'request']); // the route handler, then the server
  });

  test('ACCESS_LOG=true: one line per request with method, route label, status, duration, bytes and upstream', async () => {
    const raw = randomUUID();
    const cases: Array<{ path: string; method?: string; body?: string; headers?: Record<string, string>; want: Line }> = [
      { path: `/api/${raw}/items?q=${raw}`, want: { method: 'GET', route: '/api', status: 200, upstream: '/api' } },
      { path: `/api/${raw}`, method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' }, want: { method: 'POST', route: '/api', status: 200, upstream: '/api' } },
      { path: `/down/${raw}`, want: { method: 'GET', route: '/down', status: 502, upstream: '/down' } },
      { path: '/oauth2/ping', want: { method: 'GET', route: '/oauth2/ping', status: 200 } },
      { path: `/oauth2/${raw}`, want: { method: 'GET', route: '/oauth2/other', status: 404 } },
      { path: `/${raw}`, headers: NAVIGATION_HEADERS, want: { method: 'GET', route: 'app', status: 404 } },
    ];
    const sent = [];
    for (const c of cases) sent.push({ ...c, ...(await send(c.path, c)) });
    // A last request, answered after all of the above: any second line of theirs would be out by now.
    await send('/oauth2/ping');
    for (const s of sent) {
      const lines = accessLinesOf(s.id);
      assert.equal(lines.length, 1, `${s.path}: ${lines.length} access lines`);
      const [line] = lines;
      assert.deepEqual({ method: line.method, route: line.route, status: line.status, upstream: line.upstream }, { upstream: undefined, ...s.want }, s.path);
      assert.equal(line.level, 'info');
      assert.ok(typeof line.duration_ms === 'number' && line.duration_ms >= 0, `duration_ms ${line.duration_ms}`);
      assert.ok(typeof line.bytes === 'number' && line.bytes > 0, `bytes ${line.bytes}`);
      assert.ok(!JSON.stringify(line).includes(raw), `the raw path is in ${JSON.stringify(line)}`);
    }
  });

  test('a request carrying credentials that ends on an error path: logged with headers and query, no credential in the output', async () => {
    const credentials = {
      authorization: `Bearer ${SECRET}-authorization`,
      cookie: `gatehouse.session=${SECRET}-session; gatehouse.login.x=${SECRET}-login; theme=dark`,
      'proxy-authorization': `Basic ${SECRET}-proxy`,
      'x-auth-token': `${SECRET}-x-auth-token`,
      'x-api-key': `${SECRET}-api-key`,
    };
    // No login under way: the callback refuses the state and logs the request it refused.
    const query = `code=${SECRET}-code&state=not-a-login&session_state=harmless&access_token=${SECRET}-access-token`;
    const callback = await send(`/oauth2/callback?${query}&code_verifier=${SECRET}-verifier&client_secret=${SECRET}-client-secret`, { headers: { ...NAVIGATION_HEADERS, ...credentials } });
    assert.ok(callback.status >= 400 && callback.status < 500, `status ${callback.status}`);
    const failed = linesOf(callback.id).find((l) => l.msg === 'request failed') as { error_code: string; request: { headers: Line; query: Line } } | undefined;
    assert.ok(failed, `no 'request failed' line:\n${linesOf(callback.id).map((l) => JSON.stringify(l)).join('\n')}`);
    assert.equal(failed.error_code, 'invalid_state');
    for (const name of Object.keys(credentials)) assert.equal(failed.request.headers[name], '[redacted]', name);
    assert.equal(failed.request.headers.accept, NAVIGATION_HEADERS.accept, 'harmless headers are kept');
    assert.deepEqual(failed.request.query, { code: '[redacted]', state: 'not-a-login', session_state: 'harmless', access_token: '[redacted]', code_verifier: '[redacted]', client_secret: '[redacted]' });

    // An upstream that cannot be reached, the session cookie and a Bearer on the way.
    const down = await send('/down/x', { headers: credentials });
    assert.equal(down.status, 502);

    // A back-channel logout with a (bogus) logout token in its form body.
    const backchannel = await send('/oauth2/logout/backchannel', { method: 'POST', body: `logout_token=${SECRET}-logout-token`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(backchannel.status, 400);

    const leaked = stack.app.logs.filter((l) => l.includes(SECRET));
    assert.deepEqual(leaked, [], 'a credential reached the log');
  });

  test('an error is written with type, message, stack, code and the cause behind the answer', async () => {
    const { id } = await send('/down/y');
    const lines = linesOf(id);
    const warned = lines.find((l) => l.msg === 'upstream request failed') as { level: string; error_code: string; upstream: string; error: Record<string, unknown> } | undefined;
    assert.ok(warned, lines.map((l) => JSON.stringify(l)).join('\n'));
    assert.deepEqual([warned.level, warned.error_code, warned.upstream], ['warn', 'upstream_unavailable', '/down']);
    assert.equal(warned.error.type, 'Error');
    assert.equal(warned.error.code, 'ECONNREFUSED');
    assert.match(String(warned.error.message), new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}`));
    assert.match(String(warned.error.stack), /^Error: connect ECONNREFUSED[^\n]*\n\s+at /);
    const failed = lines.find((l) => l.msg === 'request failed') as { level: string; status: number; cause: Record<string, unknown> } | undefined;
    assert.ok(failed);
    assert.deepEqual([failed.level, failed.status, failed.cause.code], ['error', 502, 'ECONNREFUSED']);
  });
});

describe('log lines of the production build, other settings', { timeout: 120_000 }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  }, { timeout: 60_000 });
  after(() => stack?.close());

  test('an IdP that cannot be reached: the error line carries the cause chain (fetch failed ← ECONNREFUSED)', async () => {
    const closedPort = await freePort();
    await stack.restartApp({ OIDC_ISSUER: `http://127.0.0.1:${closedPort}` });
    const res = await httpRequest(`${stack.appUrl}/oauth2/login`, { headers: { ...NAVIGATION_HEADERS, 'x-request-id': 'logs-idp-down' } });
    await res.arrayBuffer();
    assert.equal(res.status, 502);
    const line = await eventually('the error line', 5_000, () => stack.app.jsonLogs().find((l) => l.correlation_id === 'logs-idp-down' && l.msg === 'request failed'));
    const chain: Array<Record<string, unknown>> = [];
    for (let e = line.cause as Record<string, unknown> | undefined; e && typeof e === 'object'; e = e.cause as Record<string, unknown> | undefined) chain.push(e);
    assert.ok(chain.length >= 2, `a chain of causes: ${JSON.stringify(line.cause)}`);
    for (const e of chain) {
      assert.equal(typeof e.type, 'string');
      assert.equal(typeof e.message, 'string');
      assert.match(String(e.stack), /\n\s+at /);
    }
    assert.equal(chain.at(-1)?.code, 'ECONNREFUSED');
  });

  test('ACCESS_LOG off (the default): no access line', async () => {
    await stack.restartApp({ OIDC_ISSUER: stack.idp.issuer, LOG_LEVEL: 'debug' });
    const res = await httpRequest(`${stack.appUrl}/`, { headers: { ...NAVIGATION_HEADERS, 'x-request-id': 'logs-quiet' } });
    await res.arrayBuffer();
    // The page's own line (proxy.ts) is written before the answer: once it is there, so would be an access line.
    await eventually('the page gate line', 5_000, () => stack.app.jsonLogs().some((l) => l.correlation_id === 'logs-quiet' && l.msg === 'page gate'));
    const next = await httpRequest(`${stack.appUrl}/oauth2/ping`);
    await next.arrayBuffer();
    assert.deepEqual(stack.app.jsonLogs().filter((l) => l.msg === 'request'), []);
  });
});
