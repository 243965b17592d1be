// What the dev IdP did, counted from oidc-provider's own events rather than from requests: token
// grants by type and outcome, back-channel logouts, RP-initiated logouts, and the `sid` of each
// account's last login. Tests assert on these (one refresh grant per session, a logout token was
// delivered) and reset them between cases.

import type { Client, KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { BackchannelEvent, GrantCounters, GrantEvent } from './types';

export interface ProviderCounters {
  grants: GrantCounters;
  grantLog: GrantEvent[];
  backchannelLogouts: BackchannelEvent[];
  readonly endSessions: number;
  /** The `sid` of the last code grant for `sub`. */
  lastSid(sub: string): string | undefined;
  /** Zero the counters and logs in place (callers hold the same objects). `sid`s are kept. */
  reset(): void;
}

function errorCode(err: unknown): { error?: string; errorDescription?: string } {
  const e = err as { error?: unknown; error_description?: unknown; message?: unknown } | undefined;
  return {
    error: typeof e?.error === 'string' ? e.error : typeof e?.message === 'string' ? e.message : undefined,
    errorDescription: typeof e?.error_description === 'string' ? e.error_description : undefined,
  };
}

/** Subscribes to `provider`'s events and counts them. */
export function countProviderEvents(provider: Provider): ProviderCounters {
  const grants: GrantCounters = {
    authorizationCodeGrants: 0,
    refreshGrants: 0,
    authorizationCodeGrantErrors: 0,
    refreshGrantErrors: 0,
  };
  const grantLog: GrantEvent[] = [];
  const backchannelLogouts: BackchannelEvent[] = [];
  const sids = new Map<string, string>();
  let endSessions = 0;

  const grantTypeOf = (ctx: KoaContextWithOIDC): string => {
    const fromParams = ctx.oidc?.params?.grant_type;
    return typeof fromParams === 'string' ? fromParams : 'unknown';
  };
  const count = (type: string, ok: boolean) => {
    if (type === 'authorization_code') grants[ok ? 'authorizationCodeGrants' : 'authorizationCodeGrantErrors'] += 1;
    if (type === 'refresh_token') grants[ok ? 'refreshGrants' : 'refreshGrantErrors'] += 1;
  };

  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const type = grantTypeOf(ctx);
    count(type, true);
    const source = ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken;
    const sub = source?.accountId;
    const sid = source?.sid;
    if (type === 'authorization_code' && sub && sid) sids.set(sub, sid);
    grantLog.push({ type, ok: true, clientId: ctx.oidc.client?.clientId, sub, sid, at: Date.now() });
  });
  provider.on('grant.error', (ctx: KoaContextWithOIDC, err: unknown) => {
    const type = grantTypeOf(ctx);
    count(type, false);
    grantLog.push({ type, ok: false, ...errorCode(err), clientId: ctx.oidc?.client?.clientId, at: Date.now() });
  });
  provider.on('backchannel.success', (_ctx: unknown, client: Client, sub: string, sid?: string) => {
    backchannelLogouts.push({ clientId: client.clientId, sub, sid, ok: true });
  });
  provider.on('backchannel.error', (_ctx: unknown, err: unknown, client: Client, sub: string, sid?: string) => {
    backchannelLogouts.push({ clientId: client.clientId, sub, sid, ok: false, error: String((err as Error)?.message ?? err) });
  });
  // Also fires when a different account logs in over an existing IdP session: oidc-provider first
  // ends that session (logout=yes), which sends back-channel logouts for the previous account.
  provider.on('end_session.success', () => {
    endSessions += 1;
  });

  return {
    grants,
    grantLog,
    backchannelLogouts,
    get endSessions() {
      return endSessions;
    },
    lastSid(sub: string) {
      return sids.get(sub);
    },
    reset() {
      grants.authorizationCodeGrants = 0;
      grants.refreshGrants = 0;
      grants.authorizationCodeGrantErrors = 0;
      grants.refreshGrantErrors = 0;
      grantLog.length = 0;
      backchannelLogouts.length = 0;
      endSessions = 0;
    },
  };
}
