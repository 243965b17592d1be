import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configProblems, PRODUCTION_ENV } from '../test/harness/config-env';
import { loadConfig, redactedConfig } from './config';

const SECRET = 'x'.repeat(32);
const production = { ...PRODUCTION_ENV, SESSION_SECRET: SECRET };

const problems = configProblems;

describe('config', () => {
  test('development works with no variables at all', () => {
    const config = loadConfig({});
    assert.equal(config.production, false);
    assert.equal(config.ingresses[0].href, 'http://localhost:3000/');
    assert.equal(config.session.secrets[0].length >= 32, true);
    assert.equal(config.cookieSecure, false);
    assert.equal(config.session.maxLifetimeMs, 10 * 3_600_000);
  });

  test('production requires the ingress, the IdP and a session secret, naming each', () => {
    const found = problems({ NODE_ENV: 'production' }).join('\n');
    for (const name of ['INGRESS', 'OIDC_ISSUER', 'OIDC_CLIENT_ID', 'SESSION_SECRET']) assert.match(found, new RegExp(`^${name}:`, 'm'));
  });

  const bad: Array<[string, Record<string, string>, string]> = [
    ['short secret', { SESSION_SECRET: 'short' }, 'SESSION_SECRET'],
    ['one short secret in a rotation list', { SESSION_SECRET: `${SECRET},short` }, 'SESSION_SECRET'],
    ['ingress not a URL', { INGRESS: 'app.example.com' }, 'INGRESS'],
    ['ingress with a query', { INGRESS: 'https://app.example.com/?a=1' }, 'INGRESS'],
    ['duration without unit', { SESSION_MAX_LIFETIME: '30' }, 'SESSION_MAX_LIFETIME'],
    ['duration garbage', { SESSION_REFRESH_BEFORE: 'soon' }, 'SESSION_REFRESH_BEFORE'],
    ['redis URL scheme', { REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    ['sentinel without name', { REDIS_SENTINELS: '127.0.0.1:26379' }, 'REDIS_SENTINEL_NAME'],
    ['sentinel entry not host:port', { REDIS_SENTINELS: 'nope', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS'],
    ['upstream without prefix', { UPSTREAMS: 'http://api:8080' }, 'UPSTREAMS'],
    ['upstream under /oauth2', { UPSTREAMS: '/oauth2/x=http://api:8080' }, 'UPSTREAMS'],
    ['upstream not http', { UPSTREAMS: '/api=ftp://api' }, 'UPSTREAMS'],
    ['error path absolute URL', { ERROR_PATH: 'https://evil.example/error' }, 'ERROR_PATH'],
    ['error path protocol-relative', { ERROR_PATH: '//evil.example' }, 'ERROR_PATH'],
    ['auto login not boolean', { AUTO_LOGIN: 'maybe' }, 'AUTO_LOGIN'],
    ['ignore glob not a path', { AUTO_LOGIN_IGNORE_PATHS: 'public/**' }, 'AUTO_LOGIN_IGNORE_PATHS'],
    ['cookie prefix with a space', { COOKIE_PREFIX: 'my app' }, 'COOKIE_PREFIX'],
    ['log level', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    ['log format', { LOG_FORMAT: 'xml' }, 'LOG_FORMAT'],
    ['body size', { UPSTREAM_MAX_BODY: 'lots' }, 'UPSTREAM_MAX_BODY'],
    ['port', { PORT: 'eighty' }, 'PORT'],
    ['client JWK not JSON', { OIDC_CLIENT_JWK: '{nope' }, 'OIDC_CLIENT_JWK'],
    ['plain http issuer off loopback', { OIDC_ISSUER: 'http://idp.example.com' }, 'OIDC_ISSUER'],
    ['two redis modes at once', { REDIS_URL: 'redis://a:1', REDIS_CLUSTER_NODES: 'a:1' }, 'REDIS_URL'],
    ['no client credential', { OIDC_CLIENT_SECRET: '' }, 'OIDC_CLIENT_SECRET'],
  ];
  for (const [name, env, variable] of bad) {
    test(`refuses ${name}, naming ${variable}`, () => {
      const found = problems({ ...production, ...env });
      assert.ok(found.some((p) => p.startsWith(`${variable}:`)), `expected a problem for ${variable}, got ${JSON.stringify(found)}`);
    });
  }

  test('LOG_FORMAT: json unless text is asked for (npm run dev asks for it)', () => {
    assert.equal(loadConfig(production).logFormat, 'json');
    assert.equal(loadConfig({}).logFormat, 'json');
    assert.equal(loadConfig({ ...production, LOG_FORMAT: 'text' }).logFormat, 'text');
  });

  test('parses a full production configuration', () => {
    const config = loadConfig({
      ...production,
      INGRESS: 'https://a.example.com/app/, http://localhost:3000',
      SESSION_SECRET: `${SECRET}, ${'y'.repeat(40)}`,
      SESSION_MAX_LIFETIME: '1h30m',
      SESSION_INACTIVITY_TIMEOUT: '15m',
      UPSTREAMS: '/=http://127.0.0.1:8080,/api=http://api:8080/v1/',
      UPSTREAM_MAX_BODY: '2MB',
      OIDC_SCOPES: 'profile, email offline_access openid',
      REDIS_SENTINELS: '10.0.0.1:26379,[::1]:26380',
      REDIS_SENTINEL_NAME: 'mymaster',
      METRICS_ADDRESS: '',
    });
    assert.deepEqual(config.ingresses.map(String), ['https://a.example.com/app', 'http://localhost:3000/']);
    assert.equal(config.cookieSecure, true);
    assert.equal(config.session.secrets.length, 2);
    assert.equal(config.session.maxLifetimeMs, 5_400_000);
    assert.equal(config.session.inactivityTimeoutMs, 900_000);
    assert.deepEqual(config.upstreams.map((r) => r.prefix), ['/api', '/']);
    assert.equal(config.upstreamMaxBody, 2 * 1024 * 1024);
    assert.deepEqual(config.providers[0].scopes, ['profile', 'email', 'offline_access']);
    assert.deepEqual(config.redis, { kind: 'sentinel', sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '::1', port: 26380 }], name: 'mymaster' });
    assert.equal(config.metricsAddress, null);
  });
});

describe('config: client credentials', () => {
  test('a private JWK alone is enough in production (no secret needed)', () => {
    const jwk = JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd', alg: 'ES256' });
    const config = loadConfig({ ...production, OIDC_CLIENT_SECRET: undefined, OIDC_CLIENT_JWK: jwk });
    assert.equal(config.providers[0].clientAuthMethod, 'private_key_jwt');
    assert.equal(config.providers[0].clientSecret, undefined);
  });
});

const ssoServer = {
  NODE_ENV: 'production',
  INGRESS: 'https://login.example.com',
  OIDC_ISSUER: 'https://idp.example.com',
  OIDC_CLIENT_ID: 'client',
  OIDC_CLIENT_SECRET: 'secret',
  SESSION_SECRET: SECRET,
  REDIS_URL: 'redis://redis:6379',
  SSO_MODE: 'server',
  SSO_DOMAIN: 'example.com',
  SSO_SESSION_COOKIE_NAME: 'example.sso',
};
const ssoProxy = {
  NODE_ENV: 'production',
  INGRESS: 'https://app.example.com',
  SESSION_SECRET: SECRET,
  REDIS_URL: 'redis://redis:6379',
  SSO_MODE: 'proxy',
  SSO_SERVER_URL: 'https://login.example.com',
  SSO_SESSION_COOKIE_NAME: 'example.sso',
};

describe('config: single sign-on (SPEC §8)', () => {
  test('off by default', () => assert.equal(loadConfig({}).sso, null));

  test('server mode', () => {
    const config = loadConfig({ ...ssoServer, SSO_DOMAIN: '.Example.COM', SSO_DEFAULT_REDIRECT_URL: 'https://www.example.com/home' });
    assert.deepEqual({ ...config.sso, defaultRedirectUrl: String((config.sso as { defaultRedirectUrl?: URL }).defaultRedirectUrl) }, {
      mode: 'server', domain: 'example.com', sessionCookieName: 'example.sso', defaultRedirectUrl: 'https://www.example.com/home', allowHttp: false,
    });
  });

  test('server mode allows http redirects only with an http ingress', () => {
    const config = loadConfig({ ...ssoServer, INGRESS: 'http://localhost:3000', SSO_DOMAIN: 'localhost' });
    assert.equal(config.sso?.mode === 'server' && config.sso.allowHttp, true);
  });

  test('proxy mode needs no IdP credentials', () => {
    const config = loadConfig(ssoProxy);
    assert.equal(config.sso?.mode, 'proxy');
    assert.equal(config.sso?.mode === 'proxy' && config.sso.serverUrl.href, 'https://login.example.com/');
    assert.equal(config.sso?.sessionCookieName, 'example.sso');
    // An SSO proxy is no OIDC client: no provider, not even a placeholder one in the startup log.
    assert.deepEqual(config.providers, []);
    assert.doesNotMatch(JSON.stringify(redactedConfig(config)), /sso-proxy|unused-in-sso-proxy-mode|clientId|issuer/);
  });

  test('proxy mode ignores IdP variables instead of making a client of them', () => {
    const config = loadConfig({ ...ssoProxy, OIDC_ISSUER: 'https://idp.example.com', OIDC_CLIENT_ID: 'client', IDENTITY_PROVIDERS: 'corp' });
    assert.deepEqual(config.providers, []);
  });

  const bad: Array<[string, Record<string, string | undefined>, string]> = [
    ['an unknown mode', { ...ssoServer, SSO_MODE: 'client' }, 'SSO_MODE'],
    ['server without a domain', { ...ssoServer, SSO_DOMAIN: undefined }, 'SSO_DOMAIN'],
    ['server with a bad domain', { ...ssoServer, SSO_DOMAIN: 'https://example.com' }, 'SSO_DOMAIN'],
    ['server without a cookie name', { ...ssoServer, SSO_SESSION_COOKIE_NAME: undefined }, 'SSO_SESSION_COOKIE_NAME'],
    ['a cookie name with bad characters', { ...ssoServer, SSO_SESSION_COOKIE_NAME: 'a b;c' }, 'SSO_SESSION_COOKIE_NAME'],
    ['server with upstreams', { ...ssoServer, UPSTREAMS: '/api=http://api:8080' }, 'UPSTREAMS'],
    ['server without Redis', { ...ssoServer, REDIS_URL: undefined }, 'REDIS_URL'],
    ['server with a default redirect off the domain', { ...ssoServer, SSO_DEFAULT_REDIRECT_URL: 'https://example.com.evil.net/' }, 'SSO_DEFAULT_REDIRECT_URL'],
    ['server with an http default redirect behind https', { ...ssoServer, SSO_DEFAULT_REDIRECT_URL: 'http://www.example.com/' }, 'SSO_DEFAULT_REDIRECT_URL'],
    ['server with a relative default redirect', { ...ssoServer, SSO_DEFAULT_REDIRECT_URL: '/home' }, 'SSO_DEFAULT_REDIRECT_URL'],
    ['server with a server URL', { ...ssoServer, SSO_SERVER_URL: 'https://login.example.com' }, 'SSO_SERVER_URL'],
    ['proxy without a server URL', { ...ssoProxy, SSO_SERVER_URL: undefined }, 'SSO_SERVER_URL'],
    ['proxy with a bad server URL', { ...ssoProxy, SSO_SERVER_URL: 'login.example.com' }, 'SSO_SERVER_URL'],
    ['proxy without a cookie name', { ...ssoProxy, SSO_SESSION_COOKIE_NAME: undefined }, 'SSO_SESSION_COOKIE_NAME'],
    ['proxy without Redis', { ...ssoProxy, REDIS_URL: undefined }, 'REDIS_URL'],
    ['proxy without a session secret', { ...ssoProxy, SESSION_SECRET: undefined }, 'SESSION_SECRET'],
    ['proxy without a session secret, in development', { ...ssoProxy, NODE_ENV: undefined, SESSION_SECRET: undefined }, 'SESSION_SECRET'],
    ['proxy with a domain', { ...ssoProxy, SSO_DOMAIN: 'example.com' }, 'SSO_DOMAIN'],
    ['SSO variables without a mode', { ...ssoProxy, SSO_MODE: undefined, OIDC_ISSUER: 'https://idp.example.com', OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's' }, 'SSO_SERVER_URL'],
  ];
  for (const [name, env, variable] of bad) {
    test(`refuses ${name}, naming ${variable}`, () => {
      const found = problems(env);
      assert.ok(found.some((p) => p.startsWith(`${variable}:`)), `expected a problem naming ${variable}, got ${JSON.stringify(found)}`);
    });
  }
});
