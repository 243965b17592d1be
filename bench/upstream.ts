// The benchmark's upstream, run as its own process (`node --import tsx bench/upstream.ts`): a
// plain node:http server that answers a small JSON body at once and records nothing, so what the
// benchmark measures is Gatehouse, not the demo upstream's bookkeeping (dev/upstream.ts keeps
// every request in memory).
//
//   any path      200 {"ok":true}; 401 without `Authorization: Bearer …` (so a Gatehouse that
//                 stopped forwarding the token shows up as errors, not as a fast benchmark)
//   /whoami       200 {"token":"<sha256 of the Authorization header, 16 chars>"}: which access
//                 token a request carried, without the token itself
//   /__stats      {"connections","requests"} so far, no token needed: shows whether Gatehouse
//                 reuses its upstream connections

import { createHash } from 'node:crypto';
import http from 'node:http';
import { serveOnFreePort } from './serve';

const OK = Buffer.from('{"ok":true}');
const UNAUTHORIZED = Buffer.from('{"error":"no bearer token"}');

let connections = 0;
let requests = 0;

const server = http.createServer((req, res) => {
  // Nothing the benchmark sends has a body; drain anything that does so keep-alive survives.
  req.resume();
  if (req.url === '/__stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ connections, requests }));
    return;
  }
  requests += 1;
  const auth = req.headers.authorization;
  if (!auth || !auth.startsWith('Bearer ')) {
    res.writeHead(401, { 'content-type': 'application/json', 'content-length': UNAUTHORIZED.length });
    res.end(UNAUTHORIZED);
    return;
  }
  if (req.url === '/whoami') {
    const body = Buffer.from(JSON.stringify({ token: createHash('sha256').update(auth).digest('base64url').slice(0, 16) }));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': OK.length });
  res.end(OK);
});

server.on('connection', () => {
  connections += 1;
});

serveOnFreePort(server);
