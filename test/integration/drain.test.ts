// Drain on SIGTERM (SPEC §2 `SHUTDOWN_WAIT`, `SHUTDOWN_GRACE`; §3 `/oauth2/ready`), against the
// production build: with an upload dripping its body and an SSE stream open, SIGTERM turns
// readiness to 503 at once while the listener serves on for the wait; then new connections are
// refused, the upload and the stream finish untouched, and the process exits 0 as soon as they
// have. A stream longer than the grace is cut when the grace is over, and the exit is still 0.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test --test-concurrency=1 test/integration/drain.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exited } from '../harness/processes';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';
import { sseStream, slowUpload, tryConnect, type Drip } from './drain-clients';
import { build, get, raw } from './raw-http';

const WAIT_MS = 1_000;
const GRACE_MS = 5_000;
/** Bound on how late the exit may come (process teardown on a loaded 2-core runner). */
const EXIT_SLACK_MS = 3_000;
/** About 3.6 s of upload: it outlives the wait by far, and ends well inside the grace. */
const DRIP: Drip = { bytes: 16, everyMs: 200, times: 18 };
const UPLOAD_BYTES = DRIP.bytes * DRIP.times;
/** About 3.75 s of events, like the upload. */
const SSE_EVENTS = 15;
const SSE_PATH = `/api/sse?count=${SSE_EVENTS}&ms=250`;

async function readiness(port: number, host: string) {
  const res = await raw(port, build(get('/oauth2/ready'), host));
  const json = /^application\/json/.test(res.header('content-type') ?? '');
  return { status: res.status, body: (json ? JSON.parse(res.body.toString()) : res.body.toString()) as { ready: boolean; reason?: string } | string, res };
}

/** The app's `shutdown: done` log line, parsed. */
function shutdownDone(stack: Stack): Record<string, unknown> | undefined {
  return stack.app.jsonLogs().find((l) => l.msg === 'shutdown: done');
}

describe('drain on SIGTERM', { timeout: 120_000 }, () => {
  let stack: Stack;
  let host: string;
  before(async () => {
    stack = await startStack({ startApp: false });
    host = new URL(stack.appUrl).host;
  }, { timeout: 60_000 });
  after(() => stack?.close());

  test('readiness fails at once, the wait serves on, then an in-flight upload and SSE stream finish and the process exits 0', async (t) => {
    const app = await stack.restartApp({ SHUTDOWN_WAIT: '1s', SHUTDOWN_GRACE: '5s' });
    assert.deepEqual((await readiness(stack.port, host)).body, { ready: true });

    const upload = slowUpload(stack.port, host, '/api/echo-body', DRIP);
    const sse = sseStream(stack.port, host, SSE_PATH);
    await sse.events(1);
    await eventually('the upload to reach the upstream', 5_000, () => stack.upstream.arrived.some((r) => r.url === '/echo-body'));

    const exit = exited(app.process);
    const signalledAt = Date.now();
    app.process.kill('SIGTERM');

    // Readiness answers 503 from the signal on, while the listener still serves.
    const notReady = await eventually('readiness to fail after SIGTERM', 2_000, async () => {
      const r = await readiness(stack.port, host);
      return r.status === 503 && r;
    });
    assert.deepEqual(notReady.body, { ready: false, reason: 'shutting_down' });
    assert.equal(notReady.res.header('cache-control'), 'no-store');
    const during = await raw(stack.port, build(get('/api/during-the-wait'), host));
    assert.equal(during.status, 200, 'a new request during the wait gets its normal answer');
    assert.equal(JSON.parse(during.body.toString()).path, '/during-the-wait');
    assert.equal(during.header('connection'), 'close', 'answers during the drain close their connection');
    assert.ok(!app.logs.some((l) => l.includes('listener closed')), 'the answers above came before the wait was over');

    await eventually('new connections to be refused after the wait', WAIT_MS + 3_000, async () => (await tryConnect(stack.port)) === 'ECONNREFUSED');
    const refusedAfterMs = Date.now() - signalledAt;
    assert.ok(refusedAfterMs >= WAIT_MS - 50, `connections were refused ${refusedAfterMs} ms after the signal, before the wait was over`);
    assert.ok(!upload.done && !sse.isClosed, 'the upload and the stream outlive the listener');

    const uploaded = await upload.result;
    assert.equal(uploaded.status, 200, `upload: ${uploaded.status} ${uploaded.body.slice(0, 200)}`);
    assert.equal(uploaded.headers['x-received-bytes'], String(UPLOAD_BYTES));
    assert.equal(stack.upstream.last('/echo-body')?.body.length, UPLOAD_BYTES, 'the upstream got the whole body');
    assert.equal(uploaded.headers.connection, 'close');

    await sse.closed;
    assert.deepEqual(sse.ids, Array.from({ length: SSE_EVENTS }, (_, i) => i + 1), 'the stream delivered every event');

    const { code, signal } = await exit;
    const exitedAfterMs = Date.now() - signalledAt;
    t.diagnostic(`refused after ${refusedAfterMs} ms, exited ${exitedAfterMs} ms after SIGTERM`);
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
    assert.ok(exitedAfterMs <= WAIT_MS + GRACE_MS + EXIT_SLACK_MS, `exited ${exitedAfterMs} ms after SIGTERM`);
    // Drained, not cut: the process did not sit out the grace once the stream was over (its
    // keep-alive connection is closed as soon as it is idle).
    assert.deepEqual(
      { why: shutdownDone(stack)?.why, cut: shutdownDone(stack)?.cut_connections },
      { why: 'drained', cut: 0 },
      stack.app.logs.slice(-10).join('\n'),
    );
  });

  test('a stream longer than the grace is cut when the grace is over, and the process still exits 0', async (t) => {
    const app = await stack.restartApp({ SHUTDOWN_WAIT: '1s', SHUTDOWN_GRACE: '5s' });
    const sse = sseStream(stack.port, host, '/api/sse?count=1000&ms=100');
    await sse.events(1);

    const exit = exited(app.process);
    const signalledAt = Date.now();
    app.process.kill('SIGTERM');
    await eventually('new connections to be refused after the wait', WAIT_MS + 3_000, async () => (await tryConnect(stack.port)) === 'ECONNREFUSED');
    const atListenerClose = sse.ids.length;

    const { code, signal } = await exit;
    const exitedAfterMs = Date.now() - signalledAt;
    await sse.closed;
    t.diagnostic(`exited ${exitedAfterMs} ms after SIGTERM; ${atListenerClose} events when the listener closed, ${sse.ids.length} when cut`);
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
    assert.ok(exitedAfterMs >= WAIT_MS + GRACE_MS - 100, `exited ${exitedAfterMs} ms after SIGTERM, before wait + grace`);
    assert.ok(exitedAfterMs <= WAIT_MS + GRACE_MS + EXIT_SLACK_MS, `exited ${exitedAfterMs} ms after SIGTERM`);
    assert.ok(sse.ids.length > atListenerClose, `the stream went on after the listener closed (${atListenerClose} → ${sse.ids.length} events)`);
    assert.ok(sse.ids.length < 1000, 'the stream was cut');
    const done = shutdownDone(stack);
    assert.equal(done?.why, 'grace period over');
    assert.ok(Number(done?.cut_connections) >= 1, JSON.stringify(done));
  });
});
