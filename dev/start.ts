// `npm run dev`: a complete local stack with no setup — the embedded IdP (any username/password),
// the demo upstream at /api, and Gatehouse itself in development mode.
//
//   DEV_IDP_PORT (3100)       dev IdP, issuer http://localhost:<port>
//   DEV_UPSTREAM_PORT (3200)  demo upstream, mounted at /api
//   PORT (3000)               Gatehouse
//
// Whatever the user set wins: with OIDC_ISSUER set, no dev IdP is started (you are pointing at a
// real one); with UPSTREAMS set, no demo upstream. Only variables the user has not set are filled.

import { spawn } from 'node:child_process';
import nextEnv from '@next/env';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startIdp, type Idp } from './idp';
import { startUpstream, type Upstream } from './upstream';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// Same values as the development defaults in lib/config.ts, so the app finds this IdP unconfigured.
const DEV_CLIENT_ID = 'gatehouse-dev';
const DEV_CLIENT_SECRET = 'gatehouse-dev-secret-not-for-production';

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    console.error(`${name}=${raw} is not a valid port`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  // .env.local (and the other .env files) the way Next.js reads them, but before the decisions
  // below: an OIDC_ISSUER or UPSTREAMS set there must stop the dev IdP or demo upstream too.
  nextEnv.loadEnvConfig(ROOT, true, { info: () => {}, error: console.error });
  const appPort = portFrom('PORT', 3000);
  const idpPort = portFrom('DEV_IDP_PORT', 3100);
  const upstreamPort = portFrom('DEV_UPSTREAM_PORT', 3200);

  // The IdP must know the app's public URLs for its redirect URIs: INGRESS if given, else localhost.
  const ingresses = (process.env.INGRESS || `http://localhost:${appPort}`)
    .split(',')
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter(Boolean);

  // A plain record: Next.js types make ProcessEnv.NODE_ENV read-only.
  const env: Record<string, string | undefined> = { ...process.env };
  const setDefault = (key: string, value: string) => {
    if (env[key] === undefined || env[key] === '') env[key] = value;
  };

  let idp: Idp | undefined;
  let upstream: Upstream | undefined;
  const closeAll = async () => {
    await Promise.allSettled([idp?.close(), upstream?.close()]);
  };

  try {
    if (!process.env.OIDC_ISSUER) {
      const clientId = process.env.OIDC_CLIENT_ID || DEV_CLIENT_ID;
      const clientSecret = process.env.OIDC_CLIENT_SECRET || DEV_CLIENT_SECRET;
      idp = await startIdp({
        port: idpPort,
        host: 'localhost',
        issuerHost: 'localhost',
        // Short-lived access tokens so the automatic refresh is visible in /oauth2/session.
        accessTokenTtlSeconds: 120,
        clients: [
          {
            clientId,
            clientSecret,
            redirectUris: ingresses.map((i) => `${i}/oauth2/callback`),
            postLogoutRedirectUris: ingresses.map((i) => `${i}/oauth2/logout/callback`),
            backchannelLogoutUri: `${ingresses[0]}/oauth2/logout/backchannel`,
            tokenEndpointAuthMethod: 'client_secret_basic',
          },
        ],
      });
      setDefault('OIDC_ISSUER', idp.issuer);
      setDefault('OIDC_CLIENT_ID', clientId);
      setDefault('OIDC_CLIENT_SECRET', clientSecret);
      setDefault('OIDC_SCOPES', 'profile email');
    }
    if (!process.env.UPSTREAMS) {
      upstream = await startUpstream({ port: upstreamPort, host: 'localhost' });
      setDefault('UPSTREAMS', `/api=http://localhost:${upstream.port}`);
    }
  } catch (err) {
    await closeAll();
    console.error(`Could not start the dev stack: ${(err as Error).message}`);
    console.error('Set DEV_IDP_PORT / DEV_UPSTREAM_PORT / PORT to use other ports.');
    process.exit(1);
  }

  env.NODE_ENV = 'development';
  setDefault('PORT', String(appPort));
  setDefault('INGRESS', ingresses.join(',')); // the URLs the dev IdP registered above, on any PORT
  // No load balancer to wait for in dev, and the browser's HMR WebSocket would hold a Ctrl-C for
  // the whole grace period: stop at once (set SHUTDOWN_* to try the production drain locally).
  setDefault('SHUTDOWN_WAIT', '0s');
  setDefault('SHUTDOWN_GRACE', '1s');
  // Readable log lines in a terminal (pino-pretty, a devDependency); production writes JSON.
  setDefault('LOG_FORMAT', 'text');

  const app = ingresses[0];
  console.log(
    [
      '',
      '  Gatehouse dev stack',
      `  ▸ Open ${app} and log in with any username and password.`,
      idp ? `  ▸ Dev identity provider: ${idp.issuer} (accepts anything; access tokens live 120 s)` : `  ▸ Identity provider: ${env.OIDC_ISSUER}`,
      upstream ? `  ▸ Demo upstream: http://localhost:${upstream.port}, mounted at ${app}/api (shows the Bearer header it receives)` : `  ▸ Upstreams: ${env.UPSTREAMS}`,
      `  ▸ Session: ${app}/oauth2/session   Logout: ${app}/oauth2/logout`,
      '',
    ].join('\n'),
  );

  // Own process group (detached): a Ctrl-C reaches only this process, which forwards it exactly
  // once. Otherwise the app would get the terminal's SIGINT *and* ours and may take the second as
  // "force quit". stdin is not needed by the server.
  const child = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['server.ts'], {
    cwd: ROOT,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });

  let signalled = 0;
  const forward = (signal: NodeJS.Signals) => {
    signalled += 1;
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      if (signalled === 1) child.kill(signal);
      else if (child.pid) process.kill(-child.pid, 'SIGKILL'); // second Ctrl-C: don't wait any longer
    } catch {
      /* already gone */
    }
  };
  process.on('SIGINT', () => forward('SIGINT'));
  process.on('SIGTERM', () => forward('SIGTERM'));
  // If this process dies some other way, don't leave the app holding the port.
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });

  child.on('error', async (err) => {
    console.error(`Could not start Gatehouse: ${err.message}`);
    await closeAll();
    process.exit(1);
  });
  child.on('exit', async (code, signal) => {
    await closeAll();
    process.exit(code ?? (signal && signalled ? 0 : 1));
  });
}

await main();
