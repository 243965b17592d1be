// Forward-auth with a real nginx (SPEC §3 `/oauth2/auth`): nginx runs the shipped
// deploy/nginx/gatehouse.conf (addresses templated), asks Gatehouse with auth_request, and proxies
// the application to the recording upstream; Gatehouse's INGRESS is the nginx URL.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/nginx-forward-auth.test.ts

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT } from '../harness/app';
import { Browser, httpRequest, parseForms, type Page } from '../harness/http';
import { startNginx, templated, NGINX, type Nginx } from '../harness/nginx';
import { freePort } from '../harness/ports';
import { startStack, type Stack } from '../harness/stack';
import { callApp } from './support';

const SHIPPED = path.join(ROOT, 'deploy', 'nginx', 'gatehouse.conf');
const ACCOUNTS: Record<string, Record<string, unknown>> = { alice: { groups: ['staff'] } };

describe('nginx auth_request in front of an app, Gatehouse answering /oauth2/auth', { timeout: 240_000 }, () => {
  let stack: Stack;
  let nginx: Nginx;
  let front: string;
  const browser = new Browser();

  before(async () => {
    assert.ok(existsSync(NGINX), `${NGINX} is needed (apt-get install nginx)`);
    const port = await freePort();
    front = `http://127.0.0.1:${port}`;
    stack = await startStack({
      idp: { accountClaims: (login) => ACCOUNTS[login] ?? {} },
      client: { redirectUris: [`${front}/oauth2/callback`], postLogoutRedirectUris: [`${front}/oauth2/logout/callback`], backchannelLogoutUri: undefined },
      env: { INGRESS: front, UPSTREAMS: '' },
    });
    const app = new URL(stack.appUrl);
    const upstream = new URL(stack.upstream.url);
    nginx = await startNginx(templated(SHIPPED, { gatehouse: app.host, app: upstream.host, listen: `127.0.0.1:${port}` }), port);
  }, { timeout: 90_000 });
  after(async () => {
    await nginx?.close();
    await stack?.close();
  });

  /** The recorded upstream requests for `path` (with query) made after `since`. */
  const seen = (since: number, url: string) => stack.upstream.requests.slice(since).filter((r) => r.url === url);

  test('an unauthenticated browser at a deep link logs in and comes back to it; the upstream gets the Bearer nginx set from Gatehouse', async () => {
    const since = stack.upstream.requests.length;
    const deep = `${front}/app/deep?x=1&y=a%2Fb`;
    const first = await browser.follow(deep);
    const [toLogin] = first.hops;
    assert.equal(toLogin.status, 302, `nginx sent ${toLogin.status}:\n${nginx.errorLog().slice(-2000)}`);
    const login = new URL(toLogin.location ?? '', front);
    assert.equal(login.origin + login.pathname, `${front}/oauth2/login`);
    assert.equal(login.searchParams.get('redirect'), '/app/deep?x=1&y=a%2Fb');
    assert.equal(seen(since, '/app/deep?x=1&y=a%2Fb').length, 0, 'nothing reached the app before the login');

    const form = parseForms(first.body, first.url).find((f) => 'login' in f.fields);
    assert.ok(form, `expected the IdP login form, got ${first.status} ${first.url}`);
    const back: Page = await browser.submit(form, { login: 'alice', password: 'x' });
    assert.equal(back.url, deep, `ended at ${back.url}`);
    assert.equal(back.status, 200);

    const [request] = seen(since, '/app/deep?x=1&y=a%2Fb');
    assert.ok(request, 'the deep link reached the app');
    const bearer = String(request.headers.authorization);
    assert.match(bearer, /^Bearer \S+$/);
    // The same token Gatehouse hands out for this session.
    const asked = await callApp(stack.appUrl, '/oauth2/auth', browser.cookieHeader(front));
    assert.equal(asked.status, 202);
    assert.equal(asked.headers.get('authorization'), bearer);
  });

  test('a client\'s own Authorization never reaches the app: replaced with a session…', async () => {
    const since = stack.upstream.requests.length;
    const res = await browser.get(`${front}/app/with-session`, { headers: { authorization: 'Bearer forged', accept: 'application/json' } });
    assert.equal(res.status, 200);
    const [request] = seen(since, '/app/with-session');
    assert.match(String(request.headers.authorization), /^Bearer \S+$/);
    assert.notEqual(request.headers.authorization, 'Bearer forged');
    assert.equal(request.rawHeaders.filter((_, i) => i % 2 === 0 && /^authorization$/i.test(request.rawHeaders[i])).length, 1);
  });

  test('… and refused without one (302 to login, the app sees nothing)', async () => {
    const since = stack.upstream.arrived.length;
    const res = await httpRequest(`${front}/app/no-session`, { headers: { authorization: 'Bearer forged' } });
    assert.equal(res.status, 302);
    assert.match(res.headers.get('location') ?? '', /\/oauth2\/login\?redirect=%2Fapp%2Fno-session$/);
    assert.equal(stack.upstream.arrived.length, since);
  });

  test('a browser cannot ask /oauth2/auth itself through nginx (it would see its token)', async () => {
    const res = await browser.get(`${front}/oauth2/auth`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('authorization'), null);
  });

  describe('with identity headers', () => {
    before(() => stack.restartApp({ UPSTREAM_IDENTITY_HEADERS: 'true' }), { timeout: 60_000 });

    test('they arrive at the app, client-sent ones replaced', async () => {
      const since = stack.upstream.requests.length;
      const res = await browser.get(`${front}/app/who`, { headers: { 'x-auth-request-user': 'admin', 'x-auth-request-groups': 'admins', accept: 'application/json' } });
      assert.equal(res.status, 200);
      const [request] = seen(since, '/app/who');
      assert.equal(request.headers['x-auth-request-user'], 'alice');
      assert.equal(request.headers['x-auth-request-email'], 'alice@example.com');
      assert.equal(request.headers['x-auth-request-preferred-username'], 'alice');
      assert.equal(request.headers['x-auth-request-groups'], 'staff');
    });
  });

  describe('with access rules that refuse the session', () => {
    before(() => stack.restartApp({ UPSTREAM_IDENTITY_HEADERS: 'false', ALLOWED_GROUPS: 'admins' }), { timeout: 60_000 });

    test('nginx answers 403 and the app sees nothing', async () => {
      const since = stack.upstream.arrived.length;
      const res = await browser.get(`${front}/app/denied`);
      assert.equal(res.status, 403);
      assert.equal(stack.upstream.arrived.length, since);
    });
  });

  describe('without identity headers', () => {
    before(() => stack.restartApp({ ALLOWED_GROUPS: '' }), { timeout: 60_000 });

    test('client-sent X-Auth-Request-* are removed by the shipped config', async () => {
      const since = stack.upstream.requests.length;
      const res = await browser.get(`${front}/app/plain`, { headers: { 'x-auth-request-user': 'admin', 'x-auth-request-email': 'root@example.com', 'x-auth-request-provider': 'corp' } });
      assert.equal(res.status, 200);
      const [request] = seen(since, '/app/plain');
      assert.equal(request.headers['x-auth-request-user'], undefined);
      assert.equal(request.headers['x-auth-request-email'], undefined);
      assert.equal(request.headers['x-auth-request-provider'], undefined, 'the provider header (several providers) is cleared too');
    });
  });
});
