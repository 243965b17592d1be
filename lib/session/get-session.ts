/**
 * `getSession()` for server components and route handlers (SPEC §4 item 4): the current user's
 * session, read through the stores, never by parsing cookies by hand. `proxy.ts` has already
 * refreshed it when due; this only reads.
 */
import { cookies } from 'next/headers';
import { gatehouse } from '../gatehouse';
import { isValid } from './session';

export interface CurrentSession {
  sub: string;
  /** Non-secret id_token claims: name, email, preferred_username, … */
  user: Record<string, unknown>;
  createdAt: Date;
  endsAt: Date;
  /** For server-side calls only: never render it or hand it to client components. */
  accessToken: string;
}

export async function getSession(): Promise<CurrentSession | null> {
  const gh = gatehouse();
  const jar = await cookies();
  const lookup = await gh.sessions.lookup(new Map(jar.getAll().map((c) => [c.name, c.value])));
  if (lookup.state !== 'found') return null;
  const session = (lookup.payload.t === 'inline' && gh.refresher.newerThan(lookup.session)) || lookup.session;
  if (!isValid(session, gh.sessions.settings, Date.now())) return null;
  return {
    sub: session.sub,
    user: session.user,
    createdAt: new Date(session.createdAt),
    endsAt: new Date(session.endsAt),
    accessToken: session.tokens.accessToken,
  };
}
