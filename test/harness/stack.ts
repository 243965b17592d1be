// The whole integration stack in one call: dev IdP + recording upstream (+ Redis) + the production
// Gatehouse, wired in the only order that works (app port → client registration → IdP → app).
//
//   const stack = await startStack({ redis: true, env: { AUTO_LOGIN: 'true' } });
//   after(() => stack.close());
//   const browser = new Browser();
//   await loginViaIdp(browser, stack.app.url, { redirect: '/api/me' });

import { demoClient, startIdp, type ClientSpec, type Idp, type IdpOptions } from '../../dev/idp';
import { startUpstream, type Upstream } from '../../dev/upstream';
import { startApp, type App, type StartAppOptions } from './app';
import { baseAppEnv } from './env';
import { freePort } from './ports';
import { startRedis, type RedisServer } from './redis';

export interface StackOptions {
  /** true: start a throwaway redis-server and set REDIS_URL; or pass one you already started. */
  redis?: boolean | RedisServer;
  /** IdP options other than the client list (e.g. accessTokenTtlSeconds, rotateRefreshTokens). */
  idp?: Omit<IdpOptions, 'clients'>;
  /** Changes to the default client registration (auth method, extra redirect URIs...). */
  client?: Partial<ClientSpec>;
  /** Extra app variables; they win over the generated ones. */
  env?: Record<string, string>;
  /** Path on the app origin used as INGRESS path (e.g. '/app'); default none. */
  ingressPath?: string;
  /** false: don't start the app (a test that starts it itself, e.g. expecting failure). */
  startApp?: boolean;
  app?: StartAppOptions;
}

export interface Stack {
  /** Undefined only with startApp: false. */
  app: App;
  appUrl: string;
  port: number;
  idp: Idp;
  upstream: Upstream;
  redis?: RedisServer;
  client: ClientSpec;
  /** The environment the app was (or would be) started with. */
  env: Record<string, string>;
  /** Stop the app and start it again on the same port, optionally with changed variables. */
  restartApp(envChanges?: Record<string, string>): Promise<App>;
  close(): Promise<void>;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const port = opts.app?.port ?? (await freePort());
  const appUrl = `http://127.0.0.1:${port}${opts.ingressPath ?? ''}`;
  const client: ClientSpec = { ...demoClient(appUrl), ...opts.client };
  const started: Array<{ close(): Promise<void> }> = [];
  const cleanup = async () => {
    await Promise.allSettled(started.reverse().map((s) => s.close()));
  };

  try {
    const idp = await startIdp({ ...opts.idp, clients: [client] });
    started.push(idp);
    const upstream = await startUpstream();
    started.push(upstream);
    let redis: RedisServer | undefined;
    if (opts.redis === true) {
      redis = await startRedis();
      started.push(redis);
    } else if (opts.redis) {
      redis = opts.redis; // the caller owns it
    }
    let env = { ...baseAppEnv({ appUrl, idp, client, upstream, redis }), ...opts.env };
    let app: App | undefined;
    if (opts.startApp !== false) {
      app = await startApp(env, { ...opts.app, port });
    }
    const stack: Stack = {
      get app(): App {
        if (!app) throw new Error('the app was not started (startApp: false)');
        return app;
      },
      appUrl,
      port,
      idp,
      upstream,
      redis,
      client,
      get env() {
        return env;
      },
      async restartApp(envChanges = {}) {
        await app?.stop();
        env = { ...env, ...envChanges };
        app = await startApp(env, { ...opts.app, port });
        return app;
      },
      async close() {
        await app?.stop();
        await cleanup();
      },
    };
    return stack;
  } catch (err) {
    await cleanup();
    throw err;
  }
}
