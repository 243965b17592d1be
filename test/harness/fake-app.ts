// Stand-in for server.ts in the harness self-test: exercises startApp()/startAppExpectingFailure()
// (spawn, environment, readiness probe, logs, SIGTERM) without needing a production build.
// FAKE_APP_FAIL: exit at once with that message; FAKE_APP_IGNORE_SIGTERM: a server that hangs on
// shutdown (only a SIGKILL ends it).

import http from 'node:http';

if (process.env.FAKE_APP_FAIL) {
  process.stderr.write(`gatehouse: ${process.env.FAKE_APP_FAIL}\n`);
  process.exit(1);
}

const server = http.createServer((req, res) => {
  if (req.url === '/oauth2/ping') {
    res.end('pong');
    return;
  }
  res.writeHead(404).end();
});

server.listen(Number(process.env.PORT), process.env.HOSTNAME, () => {
  console.log(
    JSON.stringify({
      msg: 'listening',
      pid: process.pid,
      env: {
        NODE_ENV: process.env.NODE_ENV,
        PORT: process.env.PORT,
        HOSTNAME: process.env.HOSTNAME,
        METRICS_ADDRESS: process.env.METRICS_ADDRESS,
        NODE_OPTIONS: process.env.NODE_OPTIONS ?? null,
        NODE_TEST_CONTEXT: process.env.NODE_TEST_CONTEXT ?? null,
        EXTRA: process.env.EXTRA ?? null,
      },
    }),
  );
});

process.on('SIGTERM', () => {
  if (process.env.FAKE_APP_IGNORE_SIGTERM) {
    console.log(JSON.stringify({ msg: 'ignoring SIGTERM' }));
    return;
  }
  console.log(JSON.stringify({ msg: 'shutting down' }));
  server.close(() => process.exit(0));
});
