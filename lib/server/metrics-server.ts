/**
 * The Prometheus listener (SPEC §2 `METRICS_ADDRESS`), separate from the public port so metrics
 * are not exposed through the ingress. A taken port is logged, not fatal: metrics are optional.
 */
import http from 'node:http';
import type { HostPort } from '../config';
import { log } from '../log';
import { renderMetrics } from '../metrics';

export function startMetricsServer(address: HostPort | null): http.Server | null {
  if (!address) return null;
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(renderMetrics());
  });
  server.on('error', (error) => log.warn('metrics listener unavailable', { address: `${address.host}:${address.port}`, error }));
  server.listen(address.port, address.host);
  server.unref();
  return server;
}
