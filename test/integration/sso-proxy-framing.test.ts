// Request framing toward the SSO server (issue 7 item 1), against the production build: an
// SSO_MODE=proxy Gatehouse forwards the session API and the logout channels to SSO_SERVER_URL,
// which here is a recording upstream standing in for the server, so the test sees exactly what the
// "server" received. The framing table of framing-cases.ts, for GET and POST on each forwarded path.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test --test-concurrency=1 test/integration/sso-proxy-framing.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startUpstream, type Upstream } from '../../dev/upstream';
import { startApp, type App } from '../harness/app';
import { testSecret } from '../harness/env';
import { freePort } from '../harness/ports';
import { startRedis, type RedisServer } from '../harness/redis';
import { FRAMINGS } from './framing-cases';
import { runFramingRow, type FramingTarget } from './framing-check';
import { FETCH, build, get, raw } from './raw-http';

/** What a proxy forwards to its server (SPEC §8). */
const FORWARDED = ['/oauth2/session', '/oauth2/session/refresh', '/oauth2/logout/frontchannel', '/oauth2/logout/backchannel'];
const COOKIE = 'example.sso';

describe('request framing toward the SSO server', { timeout: 180_000 }, () => {
  let redis: RedisServer;
  let server: Upstream;
  let proxy: App;
  let host: string;
  before(async () => {
    [redis, server] = await Promise.all([startRedis(), startUpstream()]);
    const port = await freePort();
    host = `127.0.0.1:${port}`;
    proxy = await startApp({
      INGRESS: `http://${host}`,
      SESSION_SECRET: testSecret(),
      REDIS_URL: redis.url,
      SSO_MODE: 'proxy',
      SSO_SERVER_URL: server.url,
      SSO_SESSION_COOKIE_NAME: COOKIE,
    }, { port });
  }, { timeout: 60_000 });
  after(async () => {
    await proxy?.stop();
    await Promise.allSettled([server?.close(), redis?.close()]);
  });

  const target = (path: string): FramingTarget => ({
    port: proxy.port, host, upstream: server,
    headers: [...FETCH, ['Cookie', `${COOKIE}=opaque; other=1`]],
    attack: (id) => ({ target: `${path}?n=${id}`, upstreamUrl: `${path}?n=${id}` }),
    followUp: (id) => ({ target: `/oauth2/session?after=${id}`, upstreamUrl: `/oauth2/session?after=${id}` }),
    checkForwarded: (r) => assert.equal(r.headers.authorization, undefined, 'a proxy sends the server no Authorization'),
  });

  let n = 0;
  for (const path of FORWARDED) {
    for (const method of ['GET', 'POST'] as const) {
      for (const framing of FRAMINGS) {
        test(`${method} ${path} with ${framing.name}`, () => runFramingRow({ name: framing.name, method, framing }, target(path), `${++n}`));
      }
    }
  }

  test('the proxy survived the whole table and logged no unhandled error', async () => {
    const ping = await raw(proxy.port, build(get('/oauth2/ping'), host));
    assert.equal(ping.body.toString().trim(), 'pong');
    assert.deepEqual(proxy.logs.filter((l) => /unhandled|uncaught|Internal Server Error|"level":"error"/i.test(l)), []);
  });
});
