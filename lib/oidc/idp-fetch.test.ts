// The IdP call classifier and timer (lib/oidc/idp-fetch.ts): which operation a URL and body are,
// and which outcome a real HTTP exchange gets (answers from a local server, a timeout, a closed port).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { metrics } from '../metrics';
import { operationsOf, timedAs } from './idp-fetch';

const ISSUER = 'https://idp.example';
const metadata = {
  issuer: ISSUER,
  token_endpoint: `${ISSUER}/oauth/token`,
  jwks_uri: `${ISSUER}/jwks`,
  pushed_authorization_request_endpoint: `${ISSUER}/par`,
  end_session_endpoint: `${ISSUER}/session/end`,
  userinfo_endpoint: `${ISSUER}/me`,
};

describe('operationsOf', () => {
  const of = operationsOf(metadata);
  const rows: Array<[string, unknown, string | null]> = [
    [`${ISSUER}/.well-known/openid-configuration`, undefined, 'discovery'],
    [`${ISSUER}/oauth/token`, new URLSearchParams({ grant_type: 'authorization_code', code: 'c' }), 'token'],
    [`${ISSUER}/oauth/token`, new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r' }), 'refresh'],
    [`${ISSUER}/oauth/token`, 'grant_type=refresh_token&refresh_token=r', 'refresh'],
    [`${ISSUER}/oauth/token?x=1`, new URLSearchParams({ grant_type: 'client_credentials' }), 'token'],
    [`${ISSUER}/jwks`, undefined, 'jwks'],
    [`${ISSUER}/par`, new URLSearchParams({ response_type: 'code' }), 'par'],
    [`${ISSUER}/session/end`, undefined, 'end-session'],
    [`${ISSUER}/me`, undefined, null],
    ['https://elsewhere.example/oauth/token', new URLSearchParams({ grant_type: 'refresh_token' }), null],
  ];
  for (const [url, body, expected] of rows) {
    test(`${url} ${body ? String(body).slice(0, 30) : ''} → ${expected}`, () => assert.equal(of(url, body), expected));
  }
});

describe('timedIdpFetch outcomes', () => {
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/hang') return; // never answers
      res.writeHead(Number(req.url?.slice(1)) || 200).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const count = async (operation: string, outcome: string) =>
    (await metrics.idpRequestDuration.get()).values.find((v) => v.metricName?.endsWith('_count') && v.labels.operation === operation && v.labels.outcome === outcome)?.value ?? 0;

  const rows: Array<[string, string, string]> = [
    ['/200', 'discovery', 'ok'],
    ['/400', 'token', 'rejected'],
    ['/503', 'refresh', 'error'],
    ['/302', 'par', 'error'],
    ['/hang', 'jwks', 'timeout'],
  ];
  for (const [path, operation, outcome] of rows) {
    test(`${path} as ${operation} → ${outcome}`, async () => {
      const before = await count(operation, outcome);
      const call = timedAs(operation as 'discovery')(`${base}${path}`, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(outcome === 'timeout' ? 200 : 10_000) });
      if (outcome === 'timeout') await assert.rejects(call, { name: 'TimeoutError' });
      else await (await call).text();
      assert.equal(await count(operation, outcome), before + 1);
    });
  }

  test('a closed port → unreachable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const before = await count('token', 'unreachable');
    await assert.rejects(timedAs('token')(url, { method: 'POST', signal: AbortSignal.timeout(2000) }));
    assert.equal(await count('token', 'unreachable'), before + 1);
  });
});
