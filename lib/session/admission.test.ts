import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../config';
import { sessionRefusal } from './admission';
import type { Session } from './session';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const session = (over: Partial<Session> = {}): Session => ({
  id: 's', createdAt: T0, endsAt: T0 + 3_600_000, lastSeenAt: T0, sub: 'alice',
  user: { email: 'alice@example.com', groups: ['staff'] },
  tokens: { accessToken: 'at', expiresAt: T0 + 60_000, refreshedAt: T0 },
  ...over,
});

const several = (ids: string, extra: Record<string, string> = {}) => {
  const env: Record<string, string> = { IDENTITY_PROVIDERS: ids, ...extra };
  for (const id of ids.split(',')) Object.assign(env, { [`OIDC_${id.toUpperCase()}_ISSUER`]: `https://${id}.example`, [`OIDC_${id.toUpperCase()}_CLIENT_ID`]: id, [`OIDC_${id.toUpperCase()}_CLIENT_SECRET`]: 's' });
  return loadConfig(env);
};

describe('sessionRefusal: the session\'s identity provider (SPEC §12)', () => {
  const cases: Array<{ name: string; config: ReturnType<typeof loadConfig>; provider: string | undefined; refused: boolean }> = [
    { name: 'several providers, its provider is configured', config: several('corp,partner'), provider: 'partner', refused: false },
    { name: 'several providers, its provider was removed', config: several('corp,other'), provider: 'partner', refused: true },
    { name: 'several providers, a session of the single-provider days (no provider)', config: several('corp,partner'), provider: undefined, refused: true },
    { name: 'one provider of IDENTITY_PROVIDERS left, the session is of the removed one', config: several('corp'), provider: 'partner', refused: true },
    { name: 'back to the plain OIDC_* provider, the session names a provider', config: loadConfig({}), provider: 'corp', refused: true },
    { name: 'the plain OIDC_* provider, a session of it', config: loadConfig({}), provider: undefined, refused: false },
    { name: 'the id is matched exactly (case)', config: several('corp,partner'), provider: 'Partner', refused: true },
    { name: 'an inherited property name is no provider', config: several('corp,partner'), provider: '__proto__', refused: true },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(sessionRefusal(c.config, session({ provider: c.provider })), c.refused ? { kind: 'provider_gone' } : null));
  }

  test('an SSO proxy does not know the server\'s providers: not checked there', () => {
    const proxy = loadConfig({ SSO_MODE: 'proxy', SSO_SERVER_URL: 'https://sso.example.com', REDIS_URL: 'redis://127.0.0.1:6379', SESSION_SECRET: 'x'.repeat(32), SSO_SESSION_COOKIE_NAME: 'sso' });
    assert.equal(sessionRefusal(proxy, session({ provider: 'corp' })), null);
  });
});

describe('sessionRefusal: the access rules of this process', () => {
  test('no rules: admitted', () => assert.equal(sessionRefusal(loadConfig({}), session()), null));
  test('rules it fails: refused with the rule', () => {
    assert.deepEqual(sessionRefusal(loadConfig({ ALLOWED_GROUPS: 'admins' }), session()), { kind: 'access', reason: 'groups' });
    assert.deepEqual(sessionRefusal(loadConfig({ ALLOWED_EMAIL_DOMAINS: 'corp.example' }), session()), { kind: 'access', reason: 'email_domain' });
  });
  test('rules it passes: admitted', () => assert.equal(sessionRefusal(loadConfig({ ALLOWED_GROUPS: 'staff', ALLOWED_EMAIL_DOMAINS: 'example.com' }), session()), null));
  test('a removed provider is refused before the rules are asked', () => {
    assert.deepEqual(sessionRefusal(several('corp', { ALLOWED_GROUPS: 'admins' }), session({ provider: 'partner' })), { kind: 'provider_gone' });
  });
});
