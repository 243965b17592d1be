/**
 * The Prometheus listener (SPEC §2 `METRICS_ADDRESS`), separate from the public port so metrics
 * are not exposed through the ingress. A taken port is logged, not fatal: metrics are optional.
 * `GET /metrics` answers the process's registry in the text exposition format (lib/metrics.ts).
 */
import http from 'node:http';
import type { HostPort } from '../config';
import { gatehouse } from '../gatehouse';
import { log } from '../log';
import { countSessionsWith, metricsContentType, metricsText, prepareSeries } from '../metrics';

/** Series at 0 for this configuration, and the session count where the store can tell. */
function prepare(): void {
  const { config, sessions } = gatehouse();
  const store = sessions.primary;
  prepareSeries({ upstreams: config.upstreams.map((u) => u.prefix), stores: store?.kind === 'redis' ? ['redis', 'cookie'] : ['cookie'] });
  if (store?.countActive) countSessionsWith(() => store.countActive!());
}

export function startMetricsServer(address: HostPort | null): http.Server | null {
  if (!address) return null;
  prepare();
  const server = http.createServer((req, res) => {
    if ((req.url ?? '').split('?', 1)[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    metricsText().then(
      (text) => res.writeHead(200, { 'Content-Type': metricsContentType, 'Cache-Control': 'no-store' }).end(text),
      (error: unknown) => {
        log.warn('metrics collection failed', { error: error as Error });
        res.writeHead(500).end();
      },
    );
  });
  server.on('error', (error) => log.warn('metrics listener unavailable', { address: `${address.host}:${address.port}`, error }));
  server.listen(address.port, address.host);
  server.unref();
  return server;
}
