/**
 * Session API for single-page apps (SPEC §3): `GET /oauth2/session` and
 * `POST /oauth2/session/refresh`. Never returns a token.
 */
import { GatehouseError } from '../errors';
import type { RelyingPartyGatehouse } from '../gatehouse';
import type { RequestContext } from '../http/context';
import type { SetCookie } from '../http/cookies';
import { errorResponse, json } from '../http/responses';
import type { SessionRefusal } from '../session/admission';
import { current } from '../session/current';
import { sessionJson } from '../session/json';
import type { SessionLookup } from '../session/sessions';
import { isActive, cooldownEndsAt } from '../session/session';

/** No session; an authentic cookie of a session that is over is cleared (SPEC §5). */
async function noSessionFor(gh: RelyingPartyGatehouse, ctx: RequestContext, lookup: SessionLookup): Promise<Response> {
  return noSession(lookup.state === 'ended' ? await gh.relyingParty.sessions.end(lookup, ctx.cookies, ctx.scope) : []);
}

const noSession = (setCookies: readonly SetCookie[] = []) => json(401, { error: 'unauthenticated', error_description: 'no session' }, setCookies);

/**
 * SPEC §12: a session this process refuses is not shown and not refreshed: 403 JSON when the
 * access rules refuse its person (as every other path answers), no session when its identity
 * provider is no longer configured.
 */
const refusedSession = (gh: RelyingPartyGatehouse, ctx: RequestContext, refused: SessionRefusal) =>
  refused.kind === 'access' ? errorResponse(gh.config, ctx, new GatehouseError('forbidden'), { html: false }) : noSession();

/** Shown even when inactive (`active: false`), as Wonderwall does. */
export async function getSessionInfo(gh: RelyingPartyGatehouse, ctx: RequestContext): Promise<Response> {
  const { lookup, session, refused } = await current(gh, ctx.cookies, ctx.now);
  if (!session) return noSessionFor(gh, ctx, lookup);
  if (refused) return refusedSession(gh, ctx, refused);
  return json(200, sessionJson(session, gh.sessions.settings, ctx.now));
}

export async function refreshSession(gh: RelyingPartyGatehouse, ctx: RequestContext): Promise<Response> {
  const { lookup, session, refused } = await current(gh, ctx.cookies, ctx.now);
  if (!session) return noSessionFor(gh, ctx, lookup);
  if (refused) return refusedSession(gh, ctx, refused);
  const timings = gh.sessions.settings;
  if (!isActive(session, timings, ctx.now) || !session.tokens.refreshToken) return noSession();
  if (ctx.now < cooldownEndsAt(session.tokens)) return json(200, sessionJson(session, timings, ctx.now));

  const outcome = await gh.relyingParty.refresher.refresh(session, lookup.payload, ctx.cookies, ctx.scope);
  if (outcome.status === 'ended') return noSession(outcome.setCookies);
  if (outcome.status === 'unchanged' && outcome.session.tokens.refreshedAt === session.tokens.refreshedAt) {
    // The IdP could not be reached: the caller asked for new tokens and did not get them.
    return json(503, { error: 'temporarily_unavailable', error_description: 'the identity provider did not answer' });
  }
  return json(200, sessionJson(outcome.session, timings, Date.now()), outcome.setCookies);
}
