/**
 * Graceful shutdown (SPEC §2 `SHUTDOWN_WAIT`, `SHUTDOWN_GRACE`; §3 `/oauth2/ready`; §10).
 *
 * On SIGTERM (or SIGINT) readiness fails at once, so load balancers and Kubernetes' endpoint
 * controller take the instance out of rotation; the listener keeps serving for `waitMs` because
 * they notice only after a probe period or two and send new connections meanwhile. Then the
 * listener closes (new connections are refused), idle keep-alive connections are closed, and
 * requests in flight (slow uploads, SSE streams, WebSockets) may finish for up to `graceMs`; what
 * is left then is cut, the session store disconnects and the process exits 0.
 *
 * From the signal on, every answer carries `Connection: close`, so keep-alive clients reconnect
 * (elsewhere) instead of holding this instance's connections until the end.
 *
 * The shutting-down flag is process-wide (`Symbol.for('gatehouse.shutdown')`): the route handler
 * of `/oauth2/ready` runs in Next's bundle, which holds its own copy of this module (PITFALLS: a
 * module-level `let` would split silently).
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { log } from '../log';
import { processWide } from '../process-wide';

const state = processWide('shutdown', () => ({ since: null as number | null }));

/** True from the moment a shutdown signal arrived (readiness then answers 503 `shutting_down`). */
export const isShuttingDown = (): boolean => state.since !== null;

export interface ShutdownSettings {
  /** How long the listener keeps serving after the signal, while readiness fails. */
  waitMs: number;
  /** How long requests in flight may go on once the listener is closed (counted after the wait). */
  graceMs: number;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  now: () => Date.now(),
};

/** The store gets this long to say goodbye (QUIT); a dead or frozen Redis must not hold the exit. */
const STORE_CLOSE_MS = 1_000;

export interface DrainOptions {
  server: http.Server;
  metricsServer: http.Server | null;
  settings: ShutdownSettings;
  /** Disconnects the session store (Redis) once no request needs it any more. */
  closeStore(): Promise<unknown>;
  /** Exports the spans still queued, the last requests' included (bounded by the caller). */
  flushTraces?(): Promise<unknown>;
  exit(code: number): void;
  timers?: Timers;
}

export interface Drain {
  /**
   * The first call starts the drain; a second one (a second Ctrl-C) cuts it short. Resolves once
   * the drain is over and `exit` was called.
   */
  begin(signal: string): Promise<void>;
}

type Phase = 'serving' | 'waiting' | 'draining' | 'done';

/**
 * Tracks `server`'s connections and requests from now on: call it before the first connection
 * arrives (right after `listen`). Upgraded sockets (WebSockets) are tracked too, which
 * `server.closeAllConnections()` does not cover.
 */
export function createDrain(options: DrainOptions): Drain {
  const { server, metricsServer, settings } = options;
  const timers = options.timers ?? realTimers;
  const sockets = new Set<Socket>();
  const inFlight = new Set<http.ServerResponse>();
  let phase: Phase = 'serving';
  let signalledAt = 0;
  let timer: unknown;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));

  /** This answer closes its connection; once the listener is closed, so does a finished stream. */
  const closeWhenAnswered = (res: http.ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
    // A response whose head went out before the signal keeps its connection alive: close it as
    // soon as it is idle (the 'finish' listeners of Node run first, so it is idle by now).
    res.once('finish', () => {
      if (phase === 'draining') server.closeIdleConnections();
    });
  };

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      if (phase === 'draining' && sockets.size === 0) void end('drained');
    });
  });
  // Before the request handler, so the header is set before anything is written.
  server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
    if (phase !== 'serving') closeWhenAnswered(res);
  });

  const stopAccepting = () => {
    phase = 'draining';
    server.close(); // refuses new connections; Node also closes the idle keep-alive ones
    server.closeIdleConnections();
    log.info('shutdown: listener closed, letting requests in flight finish', { in_flight: inFlight.size, connections: sockets.size, grace_ms: settings.graceMs });
    if (sockets.size === 0) return void end('drained');
    timer = timers.setTimeout(() => void end('grace period over'), settings.graceMs);
  };

  const end = async (why: string) => {
    if (phase === 'done') return;
    phase = 'done';
    timers.clearTimeout(timer);
    const cut = sockets.size;
    for (const socket of sockets) socket.destroy();
    if (server.listening) server.close(); // a second signal during the wait
    server.closeAllConnections();
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    log.info('shutdown: done', { why, cut_connections: cut, after_ms: timers.now() - signalledAt });
    let storeTimer: unknown;
    await Promise.race([
      options.closeStore().catch(() => undefined),
      new Promise<void>((resolve) => (storeTimer = timers.setTimeout(resolve, STORE_CLOSE_MS))),
    ]);
    timers.clearTimeout(storeTimer);
    await options.flushTraces?.().catch(() => undefined);
    options.exit(0);
    finished();
  };

  return {
    begin(signal) {
      if (phase !== 'serving') {
        if (phase !== 'done') {
          log.warn('shutdown: second signal, stopping now', { signal });
          void end('second signal');
        }
        return done;
      }
      phase = 'waiting';
      signalledAt = timers.now();
      state.since = signalledAt;
      for (const res of inFlight) closeWhenAnswered(res);
      log.info('shutting down: readiness fails now, serving on until the wait is over', { signal, wait_ms: settings.waitMs, grace_ms: settings.graceMs });
      if (settings.waitMs === 0) stopAccepting();
      else timer = timers.setTimeout(stopAccepting, settings.waitMs);
      return done;
    },
  };
}

/** server.ts's part: a drain wired to SIGTERM and SIGINT, exiting the process when it is over. */
export function drainOnSignals(options: Omit<DrainOptions, 'exit' | 'timers'>): Drain {
  const drain = createDrain({ ...options, exit: (code) => process.exit(code) });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void drain.begin(signal));
  return drain;
}
