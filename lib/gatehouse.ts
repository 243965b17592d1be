/**
 * The composition root: config, Redis, stores, OIDC and refresh wired once per process and shared
 * by the server, `proxy.ts` and the route handlers through globalThis (STYLE rule 8).
 *
 * The modes (SPEC §8) compose what they need, and the types say what each one has: the standalone
 * relying party and the SSO server are OIDC clients with a refresher and the session write path
 * (`relyingParty`); an SSO proxy is a read-only replica of its server's sessions and has none of it.
 */
import type * as client from 'openid-client';
import { getConfig, redactedConfig, type Config, type IdentityProvider } from './config';
import { log, setLogFormat, setLogLevel } from './log';
import { processWide } from './process-wide';
import { getOidcConfiguration } from './oidc/client';
import { idpErrorCode, isInvalidGrant, refreshTokens } from './oidc/flows';
import { findProvider } from './oidc/providers';
import { createRedisClient, type RedisClient } from './redis';
import { CookieSessionStore } from './session/cookie-store';
import { RedisSessionStore } from './session/redis-store';
import { Refresher, type RefreshGrant } from './session/refresh';
import { Sessions, type SessionReader } from './session/sessions';
import { createUpstreamAgents, type UpstreamAgents } from './upstream/forward';

/** What only an OIDC client has (standalone and SSO server): providers, their discovery, refresh and session writes. */
export interface RelyingParty {
  /** `config.providers`, never empty here (SPEC §12). */
  providers: readonly [IdentityProvider, ...IdentityProvider[]];
  /** The discovered configuration of one provider (lib/oidc/client.ts caches it per provider). */
  oidc(provider: IdentityProvider): Promise<client.Configuration>;
  refresher: Refresher;
  /** The write path: create, save and end sessions, replay protection of logout tokens. */
  sessions: Sessions;
}

interface Runtime {
  config: Config;
  redis: RedisClient | null;
  /** Reading the session cookie through its store: what every mode does, an SSO proxy only this. */
  sessions: SessionReader;
  upstreamAgents: UpstreamAgents;
}

/** A runtime that is a relying party (standalone, SSO server): what login, callback, logout, the session API and the logout channels run on. */
export type RelyingPartyGatehouse = Runtime & { relyingParty: RelyingParty; ssoServer: null };

/**
 * An SSO proxy (SPEC §8): no OIDC client, no refresher, no session writes. `ssoServer` is
 * SSO_SERVER_URL, where login, logout, the sign-in page, the session API and the channels go.
 */
export type SsoProxyGatehouse = Runtime & { relyingParty: null; ssoServer: URL };

export type Gatehouse = RelyingPartyGatehouse | SsoProxyGatehouse;

export const isRelyingParty = (gh: Gatehouse): gh is RelyingPartyGatehouse => gh.relyingParty !== null;

/**
 * The refresh grant of a relying party: the refresh token goes back to the provider that issued
 * it, and only there (SPEC §12); `invalid_grant` is `rejected` (the session ends), anything else
 * `unavailable` (the old tokens are kept until they expire).
 */
export function refreshGrant(config: Config, oidc: RelyingParty['oidc'], now: () => number = Date.now): RefreshGrant {
  return async (tokens, session) => {
    const provider = findProvider(config, session.provider);
    if (!provider) {
      log.warn('refresh impossible: the session\'s identity provider is no longer configured', { provider: session.provider });
      return { ok: false, reason: 'rejected' } as const;
    }
    try {
      return { ok: true, tokens: await refreshTokens(await oidc(provider), tokens, now()) };
    } catch (error) {
      const reason = isInvalidGrant(error) ? 'rejected' : 'unavailable';
      log.warn('refresh grant failed', { reason, idp_error: idpErrorCode(error) });
      return { ok: false, reason } as const;
    }
  };
}

/** `config.providers` as the non-empty list a relying party has (lib/config.ts guarantees one). */
export function providersOf(config: Config): RelyingParty['providers'] {
  const [first, ...others] = config.providers;
  if (!first) throw new Error('a relying party needs an identity provider');
  return [first, ...others];
}

function relyingParty(config: Config, sessions: Sessions): RelyingParty {
  const oidc = getOidcConfiguration;
  return { providers: providersOf(config), oidc, refresher: new Refresher(sessions, refreshGrant(config, oidc)), sessions };
}

function build(): Gatehouse {
  const config = getConfig();
  setLogLevel(config.logLevel);
  setLogFormat(config.logFormat);
  const { session } = config;
  const redis = config.redis ? createRedisClient(config.redis) : null;
  const timings = { inactivityTimeoutMs: session.inactivityTimeoutMs, refreshBeforeMs: session.refreshBeforeMs, maxLifetimeMs: session.maxLifetimeMs };
  const store = redis ? new RedisSessionStore(redis, timings) : new CookieSessionStore(session.maxLifetimeMs);
  const sessions = new Sessions({ ...timings, secrets: session.secrets, cookiePrefix: config.cookiePrefix, sessionCookieName: config.sso?.sessionCookieName }, store);
  log.info('gatehouse configured', { config: redactedConfig(config) });
  const runtime: Runtime = { config, redis, sessions, upstreamAgents: createUpstreamAgents(config.upstreamMaxConnections) };
  if (config.sso?.mode === 'proxy') return { ...runtime, relyingParty: null, ssoServer: config.sso.serverUrl };
  return { ...runtime, relyingParty: relyingParty(config, sessions), ssoServer: null };
}

export const gatehouse = (): Gatehouse => processWide('runtime', build);
