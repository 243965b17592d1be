/**
 * Whether a stored session may still be used under the configuration of this process (SPEC §12).
 * A session outlives restarts; the configuration it was made under may not:
 *
 * - its identity provider is no longer configured (removed from `IDENTITY_PROVIDERS`, or the move
 *   between one provider and several): the operator no longer trusts, or can no longer tell, who
 *   issued its tokens. Nothing can refresh it or end it through the logout channels either, so it
 *   is no session at all;
 * - the access rules refuse its person: 403 everywhere, the upstreams never see it.
 *
 * Pure: the configuration and the session in, the refusal (or null) out. Checked once for every
 * reader of the current session (lib/session/current.ts), before any refresh, so a refused
 * session never reaches an upstream, the session API, getSession() or the IdP's token endpoint.
 */
import { accessDenial, hasAccessRules, type AccessDenial } from '../access-rules';
import type { Config } from '../config';
import { findProvider } from '../oidc/providers';
import type { Session } from './session';

export type SessionRefusal =
  /** Its provider is not one of this process's providers: treated as no session. */
  | { kind: 'provider_gone' }
  /** The access rules refuse its person: 403. */
  | { kind: 'access'; reason: AccessDenial };

export function sessionRefusal(config: Pick<Config, 'providers' | 'access' | 'sso'>, session: Session): SessionRefusal | null {
  // An SSO proxy has no providers of its own; the SSO server that made the session knows them.
  if (config.sso?.mode !== 'proxy' && !findProvider(config, session.provider)) return { kind: 'provider_gone' };
  if (!hasAccessRules(config.access)) return null;
  const reason = accessDenial(config.access, { ...session.user, sub: session.sub });
  return reason ? { kind: 'access', reason } : null;
}
