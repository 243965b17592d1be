// Preloaded into a second Node ceiling (`--import ./bench/next-environment.ts`, bench/setup.ts):
// Next.js loaded and prepared from this project's production build, and one request served
// through it, the state every Gatehouse process is in. The ceiling's code stays the same, so the
// difference between the two ceilings is what hosting Next costs a proxy by itself: Next patches
// process.nextTick, setImmediate, Date, Math.random and crypto's random functions for its
// prerendering checks, and the AsyncLocalStorage instances its request handling enables turn on
// Node 20's async hooks for every promise and tick in the process.

import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import next from 'next';

// stdout is the ceiling's port announcement (bench/serve.ts); Next's start-up lines go to stderr.
const stdoutWrite = process.stdout.write;
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
const app = next({ dev: false, dir: process.cwd(), httpServer: http.createServer() });
await app.prepare();
const handle = app.getRequestHandler();
const server: Server = http.createServer((req, res) => void handle(req, res));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/ping`);
const body = await res.text();
if (body !== 'pong') throw new Error(`bench next-environment: /oauth2/ping through Next answered ${res.status}: ${body.slice(0, 200)}`);
await new Promise((resolve) => server.close(resolve));
process.stdout.write = stdoutWrite;
