import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configProblems, PRODUCTION_ENV } from '../test/harness/config-env';
import { loadConfig } from './config';

/** Production with two providers and no plain OIDC_* variables. */
const TWO: Record<string, string> = {
  NODE_ENV: 'production',
  INGRESS: 'https://app.example.com',
  SESSION_SECRET: 'x'.repeat(32),
  IDENTITY_PROVIDERS: 'corp,partner-b2b',
  OIDC_CORP_ISSUER: 'https://corp.example.com',
  OIDC_CORP_CLIENT_ID: 'corp-client',
  OIDC_CORP_CLIENT_SECRET: 'corp-secret',
  OIDC_CORP_NAME: 'Corp employees',
  OIDC_PARTNER_B2B_ISSUER: 'https://partner.example.com',
  OIDC_PARTNER_B2B_CLIENT_ID: 'partner-client',
  OIDC_PARTNER_B2B_CLIENT_SECRET: 'partner-secret',
};

const problemFor = (env: Record<string, string | undefined>, variable: string) => {
  const found = configProblems(env);
  assert.ok(found.some((p) => p.startsWith(`${variable}:`)), `expected a problem for ${variable}, got ${JSON.stringify(found)}`);
};

describe('identity providers (IDENTITY_PROVIDERS, OIDC_<ID>_*)', () => {
  test('without IDENTITY_PROVIDERS: one provider, id "default", from the plain OIDC_* variables', () => {
    const config = loadConfig({ ...PRODUCTION_ENV, OIDC_SCOPES: 'profile', OIDC_POST_LOGOUT_REDIRECT_URI: 'https://app.example.com/bye' });
    assert.equal(config.providers.length, 1);
    const [p] = config.providers;
    assert.equal(p.id, 'default');
    assert.equal(p.issuer.href, 'https://idp.example.com/');
    assert.equal(p.clientId, 'client');
    assert.equal(p.clientSecret, 'secret');
    assert.equal(p.clientAuthMethod, 'client_secret_basic');
    assert.deepEqual(p.scopes, ['profile']);
    assert.equal(p.postLogoutRedirectUri, 'https://app.example.com/bye');
  });

  test('development still defaults the single provider to the embedded dev IdP', () => {
    const [p] = loadConfig({}).providers;
    assert.equal(p.issuer.href, 'http://localhost:3100/');
    assert.equal(p.clientId, 'gatehouse-dev');
    assert.ok(p.clientSecret);
  });

  test('several providers: each from its own variables, "-" in the id becomes "_", name defaults to the id', () => {
    const config = loadConfig({ ...TWO, OIDC_PARTNER_B2B_PROVIDER: 'azure', OIDC_PARTNER_B2B_SCOPES: 'email', OIDC_CORP_ACR_VALUES: 'high', OIDC_CORP_UI_LOCALES: 'nb', OIDC_CORP_RESOURCE: 'https://api.example.com', OIDC_CORP_POST_LOGOUT_REDIRECT_URI: 'https://app.example.com/bye' });
    assert.deepEqual(config.providers.map((p) => p.id), ['corp', 'partner-b2b']);
    const [corp, partner] = config.providers;
    assert.equal(corp.name, 'Corp employees');
    assert.equal(corp.issuer.href, 'https://corp.example.com/');
    assert.equal(corp.clientId, 'corp-client');
    assert.equal(corp.acrValues, 'high');
    assert.equal(corp.uiLocales, 'nb');
    assert.equal(corp.resource, 'https://api.example.com');
    assert.equal(corp.postLogoutRedirectUri, 'https://app.example.com/bye');
    assert.equal(partner.name, 'partner-b2b');
    assert.equal(partner.clientSecret, 'partner-secret');
    assert.equal(partner.provider, 'azure');
    assert.deepEqual(partner.scopes, ['email', 'offline_access']);
  });

  test('several providers: the plain OIDC_* variables are not used (and not required)', () => {
    const config = loadConfig({ ...TWO, OIDC_ISSUER: 'https://ignored.example.com', OIDC_CLIENT_ID: 'ignored' });
    assert.ok(config.providers.every((p) => p.clientId !== 'ignored'));
    assert.deepEqual(configProblems(TWO), []);
  });

  test('a private JWK selects private_key_jwt per provider', () => {
    const jwk = JSON.stringify({ kty: 'EC', crv: 'P-256', alg: 'ES256', x: 'x', y: 'y', d: 'd' });
    const { OIDC_CORP_CLIENT_SECRET: _unused, ...env } = TWO;
    const [corp, partner] = loadConfig({ ...env, OIDC_CORP_CLIENT_JWK: jwk }).providers;
    assert.equal(corp.clientAuthMethod, 'private_key_jwt');
    assert.equal(partner.clientAuthMethod, 'client_secret_basic');
  });

  const bad: Array<[string, Record<string, string | undefined>, string]> = [
    ['an id with upper case', { IDENTITY_PROVIDERS: 'Corp' }, 'IDENTITY_PROVIDERS'],
    ['an id with "_"', { IDENTITY_PROVIDERS: 'corp,partner_b2b' }, 'IDENTITY_PROVIDERS'],
    ['an id with a dot', { IDENTITY_PROVIDERS: 'corp,partner.b2b' }, 'IDENTITY_PROVIDERS'],
    ['an id starting with "-"', { IDENTITY_PROVIDERS: 'corp,-b2b' }, 'IDENTITY_PROVIDERS'],
    ['an id listed twice', { IDENTITY_PROVIDERS: 'corp,partner-b2b,corp' }, 'IDENTITY_PROVIDERS'],
    ['a missing client id', { OIDC_CORP_CLIENT_ID: undefined }, 'OIDC_CORP_CLIENT_ID'],
    ['a missing issuer', { OIDC_PARTNER_B2B_ISSUER: '' }, 'OIDC_PARTNER_B2B_ISSUER'],
    ['an issuer that is no URL', { OIDC_CORP_ISSUER: 'corp.example.com' }, 'OIDC_CORP_ISSUER'],
    ['plain http off loopback in production', { OIDC_CORP_ISSUER: 'http://corp.example.com' }, 'OIDC_CORP_ISSUER'],
    ['no client credential', { OIDC_PARTNER_B2B_CLIENT_SECRET: undefined }, 'OIDC_PARTNER_B2B_CLIENT_SECRET'],
    ['a JWK that is not JSON', { OIDC_CORP_CLIENT_JWK: '{nope' }, 'OIDC_CORP_CLIENT_JWK'],
    ['an unknown auth method', { OIDC_CORP_CLIENT_AUTH_METHOD: 'tls_client_auth' }, 'OIDC_CORP_CLIENT_AUTH_METHOD'],
    ['an unknown preset', { OIDC_PARTNER_B2B_PROVIDER: 'okta' }, 'OIDC_PARTNER_B2B_PROVIDER'],
    ['a name far too long', { OIDC_CORP_NAME: 'n'.repeat(101) }, 'OIDC_CORP_NAME'],
    ['two providers with one issuer', { OIDC_PARTNER_B2B_ISSUER: 'https://corp.example.com' }, 'OIDC_PARTNER_B2B_ISSUER'],
  ];
  for (const [name, changes, variable] of bad) {
    test(`refuses ${name}, naming ${variable}`, () => problemFor({ ...TWO, ...changes }, variable));
  }

  test('every provider\'s problems are reported at once', () => {
    const found = configProblems({ ...TWO, OIDC_CORP_CLIENT_ID: '', OIDC_PARTNER_B2B_CLIENT_SECRET: '' });
    assert.ok(found.some((p) => p.startsWith('OIDC_CORP_CLIENT_ID:')), JSON.stringify(found));
    assert.ok(found.some((p) => p.startsWith('OIDC_PARTNER_B2B_CLIENT_SECRET:')), JSON.stringify(found));
  });

  test('the startup log line shows providers without their secrets', async () => {
    const { redactedConfig } = await import('./config');
    const text = JSON.stringify(redactedConfig(loadConfig(TWO)));
    assert.doesNotMatch(text, /corp-secret|partner-secret/);
    assert.match(text, /corp-client/);
  });
});
