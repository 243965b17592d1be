// Listening helper shared by the dev IdP and the demo upstream.
//
// `npm run dev` uses http://localhost:… URLs. Depending on the resolver, `localhost` is 127.0.0.1 or
// ::1 first, and a server bound to one of them refuses the other (browsers and undici fall back, but
// not everything does). For host `localhost` we therefore listen on 127.0.0.1 and, best effort, on
// ::1 as well — without opening anything beyond loopback.

import type http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Listening {
  port: number;
  /** Stops the extra (::1) listener, if any; the main server is closed by its owner. */
  closeExtra(): void;
}

function listenOn(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export async function listen(server: http.Server, port: number, host: string): Promise<Listening> {
  const primary = host === 'localhost' ? '127.0.0.1' : host;
  try {
    await listenOn(server, port, primary);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new Error(`port ${port} on ${primary} is already in use`, { cause: err });
    }
    throw err;
  }
  const actual = (server.address() as AddressInfo).port;
  let extra: net.Server | undefined;
  if (host === 'localhost') {
    // Sockets accepted on ::1 are handed to the same http.Server ('connection' is how it adopts them).
    const v6 = net.createServer((socket) => server.emit('connection', socket));
    try {
      await listenOn(v6, actual, '::1');
      extra = v6;
    } catch {
      v6.close(); // no IPv6 loopback here: 127.0.0.1 alone will do
    }
  }
  return {
    port: actual,
    closeExtra() {
      extra?.close();
    },
  };
}
