// The child side of `startBenchProcess` (setup.ts), shared by bench/upstream.ts and
// bench/ceiling.ts: listen on a free loopback port, announce it as the first stdout line
// ({"port":N}), keep idle connections for a whole run, and exit on SIGTERM or SIGINT.

import type http from 'node:http';
import type { AddressInfo } from 'node:net';

export function serveOnFreePort(server: http.Server, onStop: () => void = () => {}) {
  // Connections from the load generator and from the proxies stay open across a whole scenario.
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`${JSON.stringify({ port })}\n`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    onStop();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
