'use client';

import { useSession } from '@/lib/client/use-session';
import { displayName } from '@/lib/client/user';

/** Shows what useSession() knows, with the hook's login, logout and refresh. */
export function SessionCard() {
  const { status, user, session, tokens, login, logout, refresh, basePath } = useSession();
  return (
    <section className="card" aria-labelledby="session-status">
      <p><a href={`${basePath}/`}>← Start page</a></p>
      <h2 id="session-status" data-testid="status">{status}</h2>
      {status === 'authenticated' && (
        <dl>
          <dt>User</dt>
          <dd data-testid="user">{displayName(user)}</dd>
          <dt>Session ends</dt>
          <dd>{session.ends_at}</dd>
          <dt>Access token expires</dt>
          <dd data-testid="expire-at">{tokens.expire_at}</dd>
          <dt>Tokens refreshed</dt>
          <dd data-testid="refreshed-at">{tokens.refreshed_at}</dd>
          <dt>Next refresh in</dt>
          <dd>{tokens.next_auto_refresh_in_seconds < 0 ? 'never' : `${tokens.next_auto_refresh_in_seconds} s (at load)`}</dd>
        </dl>
      )}
      <p className="actions">
        {status === 'unauthenticated' && <button className="button" type="button" onClick={() => login()}>Log in</button>}
        {status === 'authenticated' && (
          <>
            <button className="button secondary" type="button" onClick={() => void refresh()}>Refresh now</button>
            <button className="button secondary" type="button" onClick={() => logout()}>Log out</button>
          </>
        )}
      </p>
    </section>
  );
}
