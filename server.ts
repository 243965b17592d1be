/**
 * Gatehouse's server: `npm run dev` runs this file; `npm start` runs it compiled (`npm run build`
 * bundles it with lib/ into dist/server.js, see scripts/build-server.mjs). It listens on
 * PORT/HOSTNAME, sends upstream routes through a streaming Node proxy, and everything else
 * (`/oauth2/*`, the app's pages) to Next.js, where `proxy.ts` gates the pages.
 *
 * Why not a `proxy.ts` rewrite for upstreams: a rewrite cannot drop `x-middleware-rewrite` (the
 * internal upstream URL) from the response, copies cookies set for the browser into the upstream
 * request, silently truncates bodies over its limit and answers a slow upstream with a plain 500,
 * and costs about seven times the CPU of a plain proxy. See README "How it works".
 */
import http from 'node:http';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { ConfigError, getConfig } from './lib/config';
import { gatehouse } from './lib/gatehouse';
import { log, routeConsoleToLog } from './lib/log';
import { startMetricsServer } from './lib/server/metrics-server';
import { drainOnSignals } from './lib/server/shutdown';
import { startTracing, stopTracing } from './lib/tracing';
import { dispatch, dispatchUpgrade } from './lib/server/dispatch';
import { GatehouseResponse } from './lib/server/gatehouse-response';

/** Where Next's build lives: this file's folder, or its parent when running as dist/server.js. */
function projectRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return basename(here) === 'dist' ? dirname(here) : here;
}

async function main() {
  try {
    getConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`gatehouse: ${error.message}\n`);
    process.exit(1);
  }
  const gh = gatehouse();
  await startTracing(gh.config.tracing); // before the first request and the first IdP call
  // From here on, what Next.js prints is a log line too: stdout carries JSON lines only.
  routeConsoleToLog();
  const { port, hostname } = gh.config.listen;
  // Next attaches its own 'upgrade' listener to the server it is given, or else to the server of the
  // first request it handles. Upgrades are Gatehouse's (dispatchUpgrade, which hands Next its dev
  // HMR socket), so Next gets a server of its own that never listens.
  const nextsOwnServer = http.createServer();
  const app = next({ dev: !gh.config.production, hostname, port, dir: projectRoot(), httpServer: nextsOwnServer });
  const handle = app.getRequestHandler();
  await app.prepare();
  const upgrade = app.getUpgradeHandler();

  const server = http.createServer({ ServerResponse: GatehouseResponse }, (req, res) => {
    dispatch(gh, req, res, (r, s) => handle(r, s)).catch((error: unknown) => {
      log.error('unhandled request error', { error: error as Error });
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Internal Server Error');
    });
  });
  server.on('upgrade', (req, socket, head) => {
    dispatchUpgrade(gh, req, socket, head, (r, s, h) => upgrade(r, s, h)).catch(() => socket.destroy());
  });
  // A request that never finishes sending its headers must not hold a socket forever.
  server.headersTimeout = 20_000;
  server.requestTimeout = 0; // bodies and streams may be long; the upstream idle timeout governs them

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, resolve);
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  log.info('listening', { url: `http://${hostname ?? 'localhost'}:${actualPort}`, production: gh.config.production });
  const metricsServer = startMetricsServer(gh.config.metricsAddress);

  // SIGTERM/SIGINT: readiness fails, serve on for SHUTDOWN_WAIT, drain for up to SHUTDOWN_GRACE, exit 0.
  drainOnSignals({ server, metricsServer, settings: gh.config.shutdown, closeStore: async () => gh.redis?.quit(), flushTraces: stopTracing });
}

main().catch((error: unknown) => {
  process.stderr.write(`gatehouse: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
