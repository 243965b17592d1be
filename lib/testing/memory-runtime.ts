/**
 * A `Gatehouse` (lib/gatehouse.ts) in memory, for unit tests of the actions and the session layer
 * (as Wonderwall's `pkg/mock`): the real config (`loadConfig`), `Sessions`, `CookieSessionStore`,
 * `Refresher` and sealing, over the in-memory Redis stand-in (lib/testing/memory-store.ts) and an
 * in-memory IdP (lib/testing/fake-idp.ts). A clock the test moves drives every part that takes one.
 *
 * Process-wide caches that production fills by talking to the IdP (discovery per provider, the
 * logout token's JWKS) are filled with the fake IdP's, so code that asks them (providerByIssuer,
 * verifyLogoutToken) works unchanged. The newest runtime of a process owns those entries: use one
 * runtime (and its replicas) at a time.
 */
import { createRemoteJWKSet, customFetch } from 'jose';
import type * as client from 'openid-client';
import { loadConfig, type Config } from '../config';
import { providersOf, refreshGrant, type RelyingPartyGatehouse } from '../gatehouse';
import { createContext, type RequestContext } from '../http/context';
import { setLogLevel } from '../log';
import { isInvalidGrant, refreshTokens } from '../oidc/flows';
import { findProvider } from '../oidc/providers';
import { processWide } from '../process-wide';
import { CookieSessionStore } from '../session/cookie-store';
import { Refresher, type RefreshGrant } from '../session/refresh';
import type { Session } from '../session/session';
import { Sessions } from '../session/sessions';
import { createUpstreamAgents } from '../upstream/forward';
import { CookieJar } from './cookie-jar';
import { FakeIdp, type FakeIdpOptions } from './fake-idp';
import { MemorySessionStore } from './memory-store';

/** Epoch ms that only the test moves. Starts at the real time: seals and id_tokens use the system clock. */
export class TestClock {
  private at: number;
  constructor(start = Date.now()) {
    this.at = start;
  }
  readonly now = () => this.at;
  advance(ms: number) {
    this.at += ms;
  }
}

export const TEST_SECRET = 'unit-test-session-secret-0123456789abcdef';

export interface RuntimeOptions {
  /** Environment on top of the runtime's (ingress, IdP, secret): SESSION_*, COOKIE_PREFIX, … */
  env?: Record<string, string>;
  /** `memory`: the Redis stand-in holds sessions (default); `cookie`: the cookie store does. */
  store?: 'memory' | 'cookie';
  idp?: FakeIdpOptions;
}

export interface MemoryRuntime {
  gh: RelyingPartyGatehouse;
  config: Config;
  /** The Redis stand-in, or null with the cookie store. */
  store: MemorySessionStore | null;
  idp: FakeIdp;
  clock: TestClock;
  /**
   * Another replica over the same store: its own `Sessions` (and cookie store), `Refresher` and,
   * unless given, the same grant through the fake IdP.
   */
  replica(grant?: RefreshGrant): RelyingPartyGatehouse;
  /** One request as the actions see it, at the clock's time, carrying a browser's cookies. */
  request(pathAndQuery: string, init?: { jar?: CookieJar; method?: string; headers?: Record<string, string> }): RequestContext;
  /** A logged-in browser without the login round trip: a session like the callback's, in the store. */
  signIn(over?: Partial<Session>): Promise<{ session: Session; jar: CookieJar }>;
}

/** Production's caches of discovery and of logout-token keys, filled with the fake IdP's. */
function installIdp(config: Config, idp: FakeIdp, configuration: client.Configuration) {
  const discovered = processWide('oidc.configurations', () => new Map<string, Promise<client.Configuration>>());
  for (const provider of config.providers) discovered.set(provider.id, Promise.resolve(configuration));
  const jwks = processWide('logout-token.jwks', () => new Map<string, ReturnType<typeof createRemoteJWKSet>>());
  const uri = idp.metadata.jwks_uri!;
  jwks.set(uri, createRemoteJWKSet(new URL(uri), { [customFetch]: idp.fetch }));
}

export async function memoryRuntime(options: RuntimeOptions = {}): Promise<MemoryRuntime> {
  const idp = await FakeIdp.start(options.idp);
  const config = loadConfig({
    INGRESS: 'https://app.test',
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    SESSION_SECRET: TEST_SECRET,
    LOG_LEVEL: 'error',
    ...options.env,
  });
  setLogLevel(config.logLevel);
  const clock = new TestClock();
  const { session: s } = config;
  const timings = { inactivityTimeoutMs: s.inactivityTimeoutMs, refreshBeforeMs: s.refreshBeforeMs, maxLifetimeMs: s.maxLifetimeMs };
  const store = options.store === 'cookie' ? null : new MemorySessionStore(timings, clock.now);
  const configuration = idp.configuration();
  installIdp(config, idp, configuration);
  const oidc = async () => configuration;
  const upstreamAgents = createUpstreamAgents(config.upstreamMaxConnections);

  const assemble = (grant?: RefreshGrant): RelyingPartyGatehouse => {
    const primary = store ?? new CookieSessionStore(s.maxLifetimeMs, clock.now);
    const sessions = new Sessions({ ...timings, secrets: s.secrets, cookiePrefix: config.cookiePrefix, sessionCookieName: config.sso?.sessionCookieName }, primary);
    const refresher = new Refresher(sessions, grant ?? refreshGrant(config, oidc, clock.now), clock.now);
    return { config, redis: null, sessions, upstreamAgents, relyingParty: { providers: providersOf(config), oidc, refresher, sessions }, ssoServer: null };
  };
  const gh = assemble();

  const request: MemoryRuntime['request'] = (pathAndQuery, init = {}) => {
    const url = new URL(pathAndQuery, 'https://app.test');
    const headers = new Headers(init.headers);
    const cookie = init.jar?.header();
    if (cookie) headers.set('cookie', cookie);
    return { ...createContext(config, { method: init.method ?? 'GET', innerPath: url.pathname, search: url.search, headers }), now: clock.now() };
  };

  const signIn: MemoryRuntime['signIn'] = async (over = {}) => {
    const now = clock.now();
    const session: Session = {
      id: crypto.randomUUID(),
      createdAt: now,
      endsAt: now + s.maxLifetimeMs,
      lastSeenAt: now,
      sid: String(idp.user.sid),
      sub: String(idp.user.sub),
      user: { email: idp.user.email, name: idp.user.name },
      tokens: { accessToken: `at-${crypto.randomUUID()}`, idToken: 'id-token', refreshToken: idp.issueRefreshToken(), expiresAt: now + idp.expiresIn * 1000, refreshedAt: now },
      ...over,
    };
    const jar = new CookieJar();
    const ctx = request('/');
    jar.take((await gh.relyingParty.sessions.create(session, ctx.cookies, ctx.scope)).setCookies);
    return { session, jar };
  };

  return { gh, config, store, idp, clock, replica: assemble, request, signIn };
}
