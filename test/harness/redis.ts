// A throwaway redis-server per test (file), on a free port, with persistence off.
//
// Tests need to break Redis on purpose — stop it (connection refused), freeze it (SIGSTOP: the TCP
// connection stays up but nothing answers, the case only a command timeout catches) and bring it
// back on the same port — which a shared Redis cannot offer. Never port 6379: that may be a
// developer's real Redis.

import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import { Redis } from 'ioredis';
import { freePort } from './ports';
import { exited, terminate } from './processes';
import { spawnRedisServer } from './redis-node';
import { tlsListenArgs, type TlsFiles } from './redis-tls';
import { redisCommand, type RespAccess } from './resp';
import { WaitTimeoutError, eventually } from './wait';

export interface RedisServerOptions {
  /** Fixed port (default: a free one). */
  port?: number;
  /** Extra redis-server arguments, e.g. ['--requirepass', 'x']. */
  args?: string[];
  /** How long to wait for PING to answer. Default 10 s. */
  readyTimeoutMs?: number;
  /** `--requirepass`: the default user's password. The harness logs in with it. */
  password?: string;
  /** ACL users, each a `user` config line without the word, e.g. 'gh on >pw ~gh:* +@all'. */
  aclUsers?: string[];
  /** Whom the harness logs in as instead (e.g. when the default user is 'off'). */
  harnessLogin?: { username: string; password: string };
  /** Listen with TLS only, on these files (see redis-tls.ts); `url` is then rediss://. */
  tls?: TlsFiles;
}

export interface RedisServer {
  /** `redis://` (or `rediss://` with TLS) `127.0.0.1:<port>`, never with credentials. */
  url: string;
  port: number;
  /** How the harness reaches it (password, CA), for redisCommand. */
  access: RespAccess;
  /** The running process (undefined while stopped). */
  readonly process: ChildProcess | undefined;
  /** Output of redis-server, for failure messages. */
  logs: string[];
  /** SIGTERM and wait for exit; closes the assertion client. The port stays reserved for start(). */
  stop(): Promise<void>;
  /** Start again on the same port (after stop()). */
  start(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing answers. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** An ioredis client for assertions (created lazily, closed by stop()/close()). */
  client(): Redis;
  /** stop() for good. */
  close(): Promise<void>;
}

/** One PING: true on PONG. No client library, so no retry logic muddying the wait. */
const ping = (port: number, access: RespAccess): Promise<boolean> =>
  redisCommand(port, ['PING'], 500, '127.0.0.1', access).then((reply) => reply === 'PONG', () => false);

/** redis-server arguments for the options' password, ACL users and TLS (listening on `port`). */
function securityArgs(port: number, opts: RedisServerOptions): string[] {
  return [
    ...(opts.tls ? tlsListenArgs(port, opts.tls) : ['--port', String(port)]),
    ...(opts.password !== undefined ? ['--requirepass', opts.password] : []),
    // On the command line each `--user` starts a config line; its rules follow as separate words.
    ...(opts.aclUsers ?? []).flatMap((line) => ['--user', ...line.split(/\s+/)]),
  ];
}

export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServer> {
  let port = opts.port ?? (await freePort());
  const logs: string[] = [];
  let child: ChildProcess | undefined;
  let assertionClient: Redis | undefined;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  const access: RespAccess = {
    ...(opts.harnessLogin ?? (opts.password !== undefined ? { password: opts.password } : {})),
    ...(opts.tls ? { ca: opts.tls.ca } : {}),
  };

  const spawnOnce = async (): Promise<void> => {
    const args = [
      ...securityArgs(port, opts),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--dir', os.tmpdir(),
      '--loglevel', 'warning',
      ...(opts.args ?? []),
    ];
    const { child: proc, spawnError } = spawnRedisServer(args, logs);
    child = proc;

    try {
      await eventually(
        `redis-server on port ${port} answering PING`,
        readyTimeoutMs,
        async () => {
          if (proc.exitCode !== null || proc.signalCode !== null) {
            throw new Error(`redis-server exited (code ${proc.exitCode}) before answering PING:\n${logs.join('\n')}`);
          }
          const failed = spawnError();
          if (failed) throw new Error(`cannot start redis-server: ${failed.message}`);
          return ping(port, access);
        },
        { minDelayMs: 10, maxDelayMs: 200 },
      );
    } catch (err) {
      if (!(err instanceof WaitTimeoutError)) throw err;
      await terminate(proc, 'SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING within ${readyTimeoutMs} ms:\n${logs.join('\n')}`);
    }
  };

  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    await spawnOnce();
  };

  // The free port may be taken between freePort() and the spawn: try a few ports on the first start.
  for (let attempt = 0; ; attempt++) {
    try {
      await spawnOnce();
      break;
    } catch (err) {
      if (opts.port !== undefined || attempt >= 2 || !logs.some((l) => /in use/i.test(l))) throw err;
      port = await freePort();
    }
  }

  const closeClient = async () => {
    const c = assertionClient;
    assertionClient = undefined;
    if (c) c.disconnect();
  };

  const stop = async (): Promise<void> => {
    await closeClient();
    const proc = child;
    if (!proc) return;
    try {
      proc.kill('SIGCONT'); // a frozen server cannot handle SIGTERM
    } catch {
      /* gone */
    }
    await terminate(proc, 'SIGTERM', 5_000);
    await exited(proc);
  };

  const signal = (sig: NodeJS.Signals) => {
    if (!child || child.exitCode !== null) throw new Error('redis-server is not running');
    child.kill(sig);
  };

  return {
    url: `${opts.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    port,
    access,
    get process() {
      return child && child.exitCode === null && child.signalCode === null ? child : undefined;
    },
    logs,
    stop,
    start,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    client() {
      if (!assertionClient) {
        assertionClient = new Redis(port, '127.0.0.1', {
          // Fail fast instead of ioredis' default ~74 s of retries when a test has stopped Redis.
          maxRetriesPerRequest: 1,
          connectTimeout: 2_000,
          lazyConnect: false,
          ...(access.password !== undefined ? { username: access.username, password: access.password } : {}),
          ...(access.ca ? { tls: { ca: access.ca } } : {}),
        });
        // Without a listener, connection errors (Redis stopped by the test) crash the process.
        assertionClient.on('error', () => {});
      }
      return assertionClient;
    },
    close: stop,
  };
}
