import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionClient, type BrowserParts, type Channel } from './session-client';
import type { SessionJson } from './types';

const session = (refreshedAt: string, nextRefresh = 270): SessionJson => ({
  session: { created_at: '2030-01-01T10:00:00.000Z', ends_at: '2030-01-01T20:00:00.000Z', timeout_at: '0001-01-01T00:00:00Z', ends_in_seconds: 36_000, active: true, timeout_in_seconds: -1 },
  tokens: { expire_at: '2030-01-01T10:05:00.000Z', refreshed_at: refreshedAt, expire_in_seconds: 300, next_auto_refresh_in_seconds: nextRefresh, refresh_cooldown: false, refresh_cooldown_seconds: 0 },
  user: { sub: 'alice', name: 'Alice Demo' },
});
const LOGIN = session('2030-01-01T10:00:00.000Z');
const REFRESHED = session('2030-01-01T10:04:30.000Z');

/** What the server answers: a session, a status, no answer at all, or a response that arrives when the test says. */
type Answer = SessionJson | 401 | 503 | 'network' | Promise<Response>;

/** One browser: tabs share its channels; each tab has its own timers and server answers. */
function browser() {
  const channels: Array<{ name: string; receive: (data: unknown) => void; closed: boolean }> = [];
  function tab(answers: Record<string, Answer[]> = {}) {
    const requests: string[] = [];
    const timers: Array<{ run: () => void; ms: number; cancelled: boolean }> = [];
    const navigations: string[] = [];
    const parts: BrowserParts = {
      async fetch(url, init) {
        const key = `${init.method} ${url}`;
        requests.push(key);
        const answer = answers[key]?.shift() ?? 401;
        if (answer === 'network') throw new TypeError('fetch failed');
        if (answer instanceof Promise) return answer;
        if (answer === 401 || answer === 503) return new Response('{}', { status: answer });
        return Response.json(answer);
      },
      channel(name): Channel {
        const own = { name, receive: (_: unknown) => {}, closed: false };
        channels.push(own);
        return {
          postMessage: (message) => {
            // Like BroadcastChannel: asynchronous, to every other open channel of that name, structured-cloned.
            for (const other of channels) if (other !== own && other.name === name && !other.closed) queueMicrotask(() => other.receive(structuredClone(message)));
          },
          listen: (receive) => {
            own.receive = receive;
          },
          close: () => {
            own.closed = true;
          },
        };
      },
      setTimeout: (run, ms) => {
        const timer = { run, ms, cancelled: false };
        timers.push(timer);
        return timer;
      },
      clearTimeout: (timer) => {
        (timer as { cancelled: boolean }).cancelled = true;
      },
      onVisible: () => () => {},
      location: () => ({ pathname: '/app/page', search: '?x=1' }),
      navigate: (url) => navigations.push(url),
    };
    const client = new SessionClient('/app', parts);
    const pending = () => timers.filter((t) => !t.cancelled);
    /** Fires the one pending timer (the client keeps at most one). */
    const fire = () => {
      const [timer, ...rest] = pending();
      assert.equal(rest.length, 0, 'one timer at a time');
      timer.cancelled = true;
      timer.run();
    };
    return { client, requests, pending, fire, navigations };
  }
  return { tab };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

test('reads the session when the first subscriber comes, and schedules the refresh', async () => {
  const { tab } = browser();
  const a = tab({ 'GET /app/oauth2/session': [LOGIN], 'POST /app/oauth2/session/refresh': [REFRESHED] });
  assert.equal(a.client.getState().status, 'loading');
  let renders = 0;
  const unsubscribe = a.client.subscribe(() => (renders += 1));
  await settled();
  assert.equal(a.client.getState().status, 'authenticated');
  assert.equal(a.client.getState().user?.name, 'Alice Demo');
  assert.equal(renders, 1);
  assert.deepEqual(a.pending().map((t) => t.ms), [271_000]);

  a.fire();
  await settled();
  assert.deepEqual(a.requests, ['GET /app/oauth2/session', 'POST /app/oauth2/session/refresh']);
  assert.equal(a.client.getState().tokens?.refreshed_at, REFRESHED.tokens.refreshed_at);
  assert.equal(renders, 2);

  unsubscribe();
  assert.deepEqual(a.pending(), [], 'the last subscriber gone, no timer is left');
});

test('a 401 (or an inactive session) is unauthenticated; no timer then', async () => {
  const { tab } = browser();
  const a = tab({ 'GET /app/oauth2/session': [401] });
  a.client.subscribe(() => {});
  await settled();
  assert.equal(a.client.getState().status, 'unauthenticated');
  assert.deepEqual(a.pending(), []);

  const b = tab({ 'GET /app/oauth2/session': [{ ...LOGIN, session: { ...LOGIN.session, active: false } }] });
  b.client.subscribe(() => {});
  await settled();
  assert.equal(b.client.getState().status, 'unauthenticated');
});

test('no answer (503, network) keeps what is known and retries with backoff', async () => {
  const { tab } = browser();
  const a = tab({ 'GET /app/oauth2/session': [LOGIN, 'network', REFRESHED], 'POST /app/oauth2/session/refresh': [503] });
  a.client.subscribe(() => {});
  await settled();
  a.fire(); // the refresh: 503
  await settled();
  assert.equal(a.client.getState().status, 'authenticated', 'still the session it knew');
  assert.deepEqual(a.pending().map((t) => t.ms), [5000]);
  a.fire(); // a re-read: network error
  await settled();
  assert.deepEqual(a.pending().map((t) => t.ms), [10_000]);
  a.fire(); // a re-read that works
  await settled();
  assert.equal(a.client.getState().tokens?.refreshed_at, REFRESHED.tokens.refreshed_at);
  assert.deepEqual(a.pending().map((t) => t.ms), [271_000]);
});

test('tabs: what one learns from the server the others adopt without a request; they do not echo it', async () => {
  const { tab } = browser();
  const a = tab({ 'GET /app/oauth2/session': [401, LOGIN] });
  const b = tab({ 'GET /app/oauth2/session': [401] });
  a.client.subscribe(() => {});
  b.client.subscribe(() => {});
  await settled();
  assert.equal(b.client.getState().status, 'unauthenticated');

  // Tab A comes back from a login and reads the session.
  await a.client.reload();
  await settled();
  assert.equal(b.client.getState().status, 'authenticated');
  assert.equal(b.client.getState().user?.sub, 'alice');
  assert.deepEqual(b.requests, ['GET /app/oauth2/session'], 'tab B asked the server only once, at the start');
  assert.deepEqual(b.pending().map((t) => t.ms), [271_000], 'tab B schedules from what it adopted');
  assert.deepEqual(a.requests, ['GET /app/oauth2/session', 'GET /app/oauth2/session'], 'tab A got no echo to act on');

  // Tab A logs out: tab B shows it before tab A has even left.
  a.client.logout();
  assert.deepEqual(a.navigations, ['/app/oauth2/logout?redirect=%2Fapp%2Fpage%3Fx%3D1']);
  await settled();
  assert.equal(b.client.getState().status, 'unauthenticated');
  assert.deepEqual(b.pending(), []);
});

test('an answer to a request sent before another tab\'s news is not taken (it may be older)', async () => {
  const { tab } = browser();
  let release: (r: Response) => void = () => {};
  const a = tab({ 'GET /app/oauth2/session': [LOGIN] });
  // Tab B's read hangs until released.
  const b = tab({ 'GET /app/oauth2/session': [new Promise<Response>((resolve) => (release = resolve))] });
  b.client.subscribe(() => {});
  a.client.subscribe(() => {});
  await settled();
  assert.equal(b.client.getState().status, 'authenticated', 'adopted from tab A');
  release(new Response('{}', { status: 401 }));
  await settled();
  assert.equal(b.client.getState().status, 'authenticated', 'the stale 401 was dropped');
});

test('login() comes back to the current page unless told otherwise', () => {
  const { tab } = browser();
  const a = tab();
  a.client.login();
  a.client.login({ redirect: '/app/elsewhere', prompt: 'login' });
  assert.deepEqual(a.navigations, ['/app/oauth2/login?redirect=%2Fapp%2Fpage%3Fx%3D1', '/app/oauth2/login?redirect=%2Fapp%2Felsewhere&prompt=login']);
});
