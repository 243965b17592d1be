import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from './config';
import { corsOrigin, defaultTarget, isForwardedToServer, redirectTarget, serverRedirect } from './sso';

const base = { NODE_ENV: 'production', OIDC_ISSUER: 'https://idp.example.com', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's', SESSION_SECRET: 'x'.repeat(32), REDIS_URL: 'redis://r:6379' };
const server = loadConfig({ ...base, INGRESS: 'https://login.example.com', SSO_MODE: 'server', SSO_DOMAIN: 'example.com', SSO_SESSION_COOKIE_NAME: 'sso', SSO_DEFAULT_REDIRECT_URL: 'https://www.example.com/' });
const standalone = loadConfig({ ...base, INGRESS: 'https://login.example.com' });

describe('sso decisions (SPEC §8)', () => {
  test('CORS only for https origins on the domain, exactly as sent', () => {
    assert.equal(corsOrigin(server, 'https://app.example.com'), 'https://app.example.com');
    assert.equal(corsOrigin(server, 'https://example.com:8443'), 'https://example.com:8443');
    for (const origin of [undefined, 'null', 'http://app.example.com', 'https://example.com.evil.net', 'https://evilexample.com', 'https://app.example.com/', 'https://u@app.example.com', 'not a url']) {
      assert.equal(corsOrigin(server, origin), null, String(origin));
    }
    assert.equal(corsOrigin(standalone, 'https://app.example.com'), null);
  });

  test('redirect targets: absolute on the domain kept on a server only', () => {
    assert.equal(redirectTarget(server, 'https://app.example.com/x', '/'), 'https://app.example.com/x');
    assert.equal(redirectTarget(server, 'https://evil.net/x', '/'), '/x');
    assert.equal(redirectTarget(standalone, 'https://app.example.com/x', '/'), '/x');
    assert.equal(defaultTarget(server, '/'), 'https://www.example.com/');
    assert.equal(defaultTarget(standalone, '/'), '/');
  });

  test('a proxy sends login to the server with an absolute redirect back and the other parameters', () => {
    const location = new URL(serverRedirect(new URL('https://login.example.com/sso'), '/oauth2/login', new URL('https://app.example.com/app'), '/app/x?y=1', new URLSearchParams('redirect=/ignored&level=high')));
    assert.equal(location.origin + location.pathname, 'https://login.example.com/sso/oauth2/login');
    assert.equal(location.searchParams.get('redirect'), 'https://app.example.com/app/x?y=1');
    assert.equal(location.searchParams.get('level'), 'high');
    assert.equal(location.searchParams.getAll('redirect').length, 1);
  });

  test('what a proxy forwards to its server', () => {
    for (const path of ['/oauth2/session', '/oauth2/session/refresh', '/oauth2/logout/frontchannel', '/oauth2/logout/backchannel', '/oauth2/logout/local']) assert.ok(isForwardedToServer(path), path);
    for (const path of ['/oauth2/login', '/oauth2/logout', '/oauth2/callback', '/oauth2/ping', '/oauth2/sessionx', '/api']) assert.ok(!isForwardedToServer(path), path);
  });
});
