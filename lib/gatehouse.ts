/**
 * The composition root: config, Redis, stores, OIDC and refresh wired once per process and shared
 * by the server, `proxy.ts` and the route handlers through globalThis (STYLE rule 8).
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
import { Refresher } from './session/refresh';
import { Sessions } from './session/sessions';
import { createUpstreamAgents, type UpstreamAgents } from './upstream/forward';

export interface Gatehouse {
  config: Config;
  redis: RedisClient | null;
  sessions: Sessions;
  refresher: Refresher;
  upstreamAgents: UpstreamAgents;
  /** The discovered configuration of one provider (lib/oidc/client.ts caches it per provider). */
  oidc(provider: IdentityProvider): Promise<client.Configuration>;
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
  const oidc = getOidcConfiguration;
  const refresher = new Refresher(sessions, async (tokens, session) => {
    // SPEC §12: the refresh token goes back to the provider that issued it, and only there.
    const provider = findProvider(config, session.provider);
    if (!provider) {
      log.warn('refresh impossible: the session\'s identity provider is no longer configured', { provider: session.provider });
      return { ok: false, reason: 'rejected' } as const;
    }
    try {
      return { ok: true, tokens: await refreshTokens(await oidc(provider), tokens, Date.now()) };
    } catch (error) {
      const reason = isInvalidGrant(error) ? 'rejected' : 'unavailable';
      log.warn('refresh grant failed', { reason, idp_error: idpErrorCode(error) });
      return { ok: false, reason } as const;
    }
  });
  log.info('gatehouse configured', { config: redactedConfig(config) });
  return { config, redis, sessions, refresher, oidc, upstreamAgents: createUpstreamAgents(config.upstreamMaxConnections) };
}

export const gatehouse = (): Gatehouse => processWide('runtime', build);
