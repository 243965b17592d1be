// Free TCP ports for things that must know their port before they start (the app: its INGRESS and
// the IdP's redirect URIs contain it; redis-server: it takes a fixed --port).
//
// The port is released before the caller binds it, so another process could grab it in between;
// callers that spawn a server retry on "address in use" rather than trusting this blindly.

import net from 'node:net';

/** Ports a test must never take: a developer's real Redis, the `npm run dev` stack, metrics. */
const RESERVED = new Set([3000, 3001, 3100, 3200, 6379, 26379]);

export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.unref();
      server.once('error', reject);
      server.listen(0, host, () => {
        const address = server.address();
        const p = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(p));
      });
    });
    if (port && !RESERVED.has(port)) return port;
  }
  throw new Error('freePort: could not find a free port');
}
