/**
 * Session API for single-page apps (SPEC §3): `GET /oauth2/session` and
 * `POST /oauth2/session/refresh`. Never returns a token.
 */
import type { Gatehouse } from '../gatehouse';
import type { RequestContext } from '../http/context';
import { json } from '../http/responses';
import { sessionJson } from '../session/json';
import type { SessionLookup } from '../session/sessions';
import { isActive, cooldownEndsAt } from '../session/session';

/** No session; an authentic cookie of a session that is over is cleared (SPEC §5). */
async function noSessionFor(gh: Gatehouse, ctx: RequestContext, lookup: SessionLookup): Promise<Response> {
  return noSession(lookup.state === 'ended' && gh.config.sso?.mode !== 'proxy' ? await gh.sessions.end(lookup, ctx.cookies, ctx.scope) : []);
}

const noSession = (setCookies: string[] = []) => json(401, { error: 'unauthenticated', error_description: 'no session' }, setCookies);

export async function getSessionInfo(gh: Gatehouse, ctx: RequestContext): Promise<Response> {
  const lookup = await gh.sessions.lookup(ctx.cookies, ctx.now);
  if (lookup.state !== 'found') return noSessionFor(gh, ctx, lookup);
  const session = lookup.payload.t === 'inline' ? (gh.refresher.newerThan(lookup.session) ?? lookup.session) : lookup.session;
  return json(200, sessionJson(session, gh.sessions.settings, ctx.now));
}

export async function refreshSession(gh: Gatehouse, ctx: RequestContext): Promise<Response> {
  const lookup = await gh.sessions.lookup(ctx.cookies, ctx.now);
  if (lookup.state !== 'found') return noSessionFor(gh, ctx, lookup);
  const timings = gh.sessions.settings;
  const current = lookup.payload.t === 'inline' ? (gh.refresher.newerThan(lookup.session) ?? lookup.session) : lookup.session;
  if (!isActive(current, timings, ctx.now) || !current.tokens.refreshToken) return noSession();
  if (ctx.now < cooldownEndsAt(current.tokens)) return json(200, sessionJson(current, timings, ctx.now));

  const outcome = await gh.refresher.refresh(current, lookup.payload, ctx.cookies, ctx.scope);
  if (outcome.status === 'ended') return noSession(outcome.setCookies);
  if (outcome.status === 'unchanged' && outcome.session.tokens.refreshedAt === current.tokens.refreshedAt) {
    // The IdP could not be reached: the caller asked for new tokens and did not get them.
    return json(503, { error: 'temporarily_unavailable', error_description: 'the identity provider did not answer' });
  }
  return json(200, sessionJson(outcome.session, timings, Date.now()), outcome.setCookies);
}
