/**
 * The current user's session for server components and route handlers (SPEC §4 item 4), read
 * through the stores, never by parsing cookies by hand. `proxy.ts` has already refreshed it when
 * due; this only reads. Server-only: the access token must never reach a client bundle, and
 * `server-only` turns an accidental import from a client component into a build error.
 *
 * App code imports these through lib/app-server.ts.
 */
import 'server-only';
import { cookies } from 'next/headers';
import { gatehouse } from '../gatehouse';
import { current } from './current';
import type { Session } from './session';

/** What a page may render or hand to a client component: no token in it. */
export interface SessionSummary {
  sub: string;
  /** `sub` and the non-secret id_token claims (name, email, preferred_username, …), as in the session JSON. */
  user: { sub: string; [claim: string]: unknown };
  createdAt: Date;
  endsAt: Date;
  /** When the access token expires; null when the IdP did not say. */
  accessTokenExpiresAt: Date | null;
}

/** The valid session of this request, or null (none, ended, inactive, or its store unreachable). */
async function currentSession(): Promise<Session | null> {
  const jar = await cookies();
  // A cookie session refreshed by proxy.ts during this very request still arrives with the old
  // cookie: current() prefers the newer tokens the refresher remembers.
  const found = await current(gatehouse(), new Map(jar.getAll().map((c) => [c.name, c.value])), Date.now());
  return found.valid ? found.session : null;
}

export const summarize = (session: Session): SessionSummary => ({
  sub: session.sub,
  user: { ...session.user, sub: session.sub },
  createdAt: new Date(session.createdAt),
  endsAt: new Date(session.endsAt),
  accessTokenExpiresAt: session.tokens.expiresAt ? new Date(session.tokens.expiresAt) : null,
});

/** The session of this request, safe to render; null without a valid session. */
export async function getSession(): Promise<SessionSummary | null> {
  const session = await currentSession();
  return session && summarize(session);
}

/**
 * The user's access token for calls the server makes on their behalf (`Authorization: Bearer`);
 * null without a valid session. Never render it, log it or pass it to a client component.
 */
export async function getAccessToken(): Promise<string | null> {
  return (await currentSession())?.tokens.accessToken ?? null;
}
