import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Config } from '../config';
import type { SsoProxyGatehouse } from '../gatehouse';
import type { CookieScope } from '../http/cookies';
import { CookieSessionStore } from './cookie-store';
import { resolveSession } from './resolve';
import type { Session } from './session';
import { Sessions } from './sessions';

const T0 = Date.UTC(2025, 0, 1);
const scope: CookieScope = { prefix: 'gatehouse', path: '/', secure: true, sessionName: 'example.sso' };
const settings = {
  secrets: ['s'.repeat(32)],
  maxLifetimeMs: 36_000_000,
  inactivityTimeoutMs: 60_000,
  refreshBeforeMs: 24 * 3_600_000,
  cookiePrefix: 'gatehouse',
  sessionCookieName: 'example.sso',
};

const session: Session = {
  id: 'id-1',
  createdAt: T0,
  endsAt: T0 + 36_000_000,
  lastSeenAt: T0,
  sub: 'alice',
  user: {},
  tokens: { accessToken: 'at', refreshToken: 'rt', expiresAt: T0 + 300_000, refreshedAt: T0 },
};

/** The browser's cookies after the SSO server (which has the write path) created the session. */
async function serverCookies(): Promise<Map<string, string>> {
  const server = new Sessions(settings, new CookieSessionStore(settings.maxLifetimeMs));
  const { setCookies } = await server.create(session, new Map(), scope);
  return new Map(setCookies.map((c) => [c.name, c.value]));
}

/**
 * An SSO proxy's runtime (SPEC §8). Its sessions object is the full class underneath; any write
 * (save, end, create) reached through it would throw, so the test proves none is attempted.
 */
function proxyRuntime(): SsoProxyGatehouse {
  const sessions = new Sessions(settings, new CookieSessionStore(settings.maxLifetimeMs));
  for (const write of ['save', 'end', 'create', 'reload', 'endBySubject', 'firstUse'] as const) {
    (sessions as unknown as Record<string, unknown>)[write] = () => {
      throw new Error(`an SSO proxy wrote: ${write}`);
    };
  }
  const config = { providers: [], access: { emailDomains: [], groups: [], groupsClaim: 'groups' }, sso: { mode: 'proxy', serverUrl: new URL('https://login.example.com'), sessionCookieName: 'example.sso' } } as unknown as Config;
  return { config, redis: null, sessions, upstreamAgents: {} as SsoProxyGatehouse['upstreamAgents'], relyingParty: null, ssoServer: new URL('https://login.example.com') };
}

describe('resolveSession on an SSO proxy (SPEC §8)', () => {
  test('a session due for refresh and for an inactivity touch is used as it is, nothing written', async () => {
    const now = T0 + 30_000; // refresh due (SESSION_REFRESH_BEFORE 24h), touch due (1/20 of 60 s passed)
    const resolved = await resolveSession(proxyRuntime(), await serverCookies(), scope, now);
    assert.equal(resolved.session?.id, 'id-1');
    assert.equal(resolved.session?.lastSeenAt, T0, 'no inactivity touch');
    assert.equal(resolved.session?.tokens.refreshedAt, T0, 'no refresh');
    assert.deepEqual(resolved.setCookies, []);
  });

  test('an inactive session is no session, and its cookie is left to the server', async () => {
    const resolved = await resolveSession(proxyRuntime(), await serverCookies(), scope, T0 + 120_000);
    assert.equal(resolved.session, null);
    assert.deepEqual(resolved.setCookies, []);
  });
});
