// Gatehouse with several identity providers (SPEC §12): two real dev IdPs, each on its own port with
// its own client registration for the app, a recording upstream (+ Redis), and the production build
// configured with IDENTITY_PROVIDERS=corp,partner.
//
//   const stack = await startProvidersStack({ redis: true });
//   await loginViaIdp(browser, stack.app.url, { query: { provider: 'partner' } });

import { demoClient, startIdp, type ClientSpec, type Idp, type IdpOptions } from '../../dev/idp';
import { startUpstream, type Upstream } from '../../dev/upstream';
import { startApp, type App } from './app';
import { baseAppEnv } from './env';
import { freePort } from './ports';
import { startRedis, type RedisServer } from './redis';

export const PROVIDER_IDS = ['corp', 'partner'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];
/** The button labels (OIDC_<ID>_NAME). */
export const PROVIDER_NAMES: Record<ProviderId, string> = { corp: 'Corp employees', partner: 'Partner & Co' };

export interface ProvidersStackOptions {
  redis?: boolean;
  /** Options of both IdPs (e.g. accessTokenTtlSeconds); `perIdp` wins for one of them. */
  idp?: Omit<IdpOptions, 'clients'>;
  perIdp?: Partial<Record<ProviderId, Omit<IdpOptions, 'clients'>>>;
  /** IdPs stopped before the app starts: their discovery fails. */
  down?: ProviderId[];
  env?: Record<string, string>;
}

export interface ProvidersStack {
  app: App;
  appUrl: string;
  idps: Record<ProviderId, Idp>;
  clients: Record<ProviderId, ClientSpec>;
  upstream: Upstream;
  redis?: RedisServer;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startProvidersStack(opts: ProvidersStackOptions = {}): Promise<ProvidersStack> {
  const port = await freePort();
  const appUrl = `http://127.0.0.1:${port}`;
  const started: Array<{ close(): Promise<void> }> = [];
  let app: App | undefined;
  const close = async () => {
    await app?.stop();
    await Promise.allSettled(started.reverse().map((s) => s.close()));
  };
  try {
    const clients = {} as Record<ProviderId, ClientSpec>;
    const idps = {} as Record<ProviderId, Idp>;
    for (const id of PROVIDER_IDS) {
      // Own client ids and secrets: a request meant for one IdP's client fails at the other.
      clients[id] = demoClient(appUrl, `${id}-client`, `${id}-secret-0123456789abcdef0123456789`);
      idps[id] = await startIdp({ ...opts.idp, ...opts.perIdp?.[id], clients: [clients[id]] });
      if (opts.down?.includes(id)) await idps[id].close();
      else started.push(idps[id]);
    }
    const upstream = await startUpstream();
    started.push(upstream);
    const redis = opts.redis ? await startRedis() : undefined;
    if (redis) started.push(redis);
    const { OIDC_ISSUER: _i, OIDC_CLIENT_ID: _c, OIDC_CLIENT_SECRET: _s, OIDC_SCOPES: _sc, ...base } = baseAppEnv({ appUrl, idp: idps.corp, client: clients.corp, upstream, redis });
    const env: Record<string, string> = { ...base, IDENTITY_PROVIDERS: PROVIDER_IDS.join(',') };
    for (const id of PROVIDER_IDS) {
      const prefix = `OIDC_${id.toUpperCase()}_`;
      Object.assign(env, {
        [`${prefix}ISSUER`]: idps[id].issuer,
        [`${prefix}CLIENT_ID`]: clients[id].clientId,
        [`${prefix}CLIENT_SECRET`]: clients[id].clientSecret!,
        [`${prefix}SCOPES`]: 'profile email',
        [`${prefix}NAME`]: PROVIDER_NAMES[id],
      });
    }
    Object.assign(env, opts.env);
    app = await startApp(env, { port });
    return { app, appUrl, idps, clients, upstream, redis, env, close };
  } catch (error) {
    await close();
    throw error;
  }
}
