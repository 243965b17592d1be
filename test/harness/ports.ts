// Free TCP ports for things that must know their port before they start (the app: its INGRESS and
// the IdP's redirect URIs contain it; redis-server: it takes a fixed --port).
//
// A port is free only until someone binds it, so three things keep two servers from being handed
// the same one: ports come from below the kernel's ephemeral range (32768+), where outgoing
// connections take their local ports; each test process draws from its own slice of that range
// (test files run in parallel processes); and a process never hands out the same port twice.

import net from 'node:net';

/** Ports a test must never take: a developer's real Redis, the `npm run dev` stack, metrics. */
const RESERVED = new Set([3000, 3001, 3100, 3200, 6379, 26379]);
const FIRST = 10_000;
const SLICES = 20;
const SLICE_SIZE = 1_100;
const handedOut = new Set<number>();

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const sliceStart = FIRST + (process.pid % SLICES) * SLICE_SIZE;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = sliceStart + Math.floor(Math.random() * SLICE_SIZE);
    if (RESERVED.has(port) || handedOut.has(port)) continue;
    handedOut.add(port); // before the await: concurrent callers must not pick it too
    if (await canBind(port, host)) return port;
    handedOut.delete(port);
  }
  throw new Error('freePort: could not find a free port');
}
