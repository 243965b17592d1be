// The OTLP/HTTP endpoint of the bench's tracing scenario (BENCH_TRACING=1), run as its own process
// so receiving spans costs neither Gatehouse nor the load generator: reads each export, answers
// 200 `{}` as a Collector does, keeps nothing.
//
//   POST /v1/traces  200 {}
//   /__stats         {"exports","bytes"} so far: shows the spans did arrive

import http from 'node:http';
import { serveOnFreePort } from './serve';

let exports = 0;
let bytes = 0;

const server = http.createServer((req, res) => {
  if (req.url === '/__stats') {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ exports, bytes }));
    return;
  }
  req.on('data', (chunk: Buffer) => (bytes += chunk.length));
  req.on('end', () => {
    exports += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});

serveOnFreePort(server);
