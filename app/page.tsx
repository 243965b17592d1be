import { getSession } from '@/lib/session/get-session';
import { ApiCall } from './api-call';

export const dynamic = 'force-dynamic';

/** The starter page: who is logged in, and a way to see the upstream receive the Bearer token. */
export default async function Home() {
  const session = await getSession();
  const name = String(session?.user.name ?? session?.user.preferred_username ?? session?.sub ?? '');
  return (
    <main>
      <h1>Gatehouse</h1>
      <p className="lead">OpenID Connect login in front of your app. The browser never holds a token.</p>
      <section className="card" aria-labelledby="who">
        <h2 id="who">{session ? `Logged in as ${name}` : 'Not logged in'}</h2>
        {session ? (
          <dl>
            <dt>Subject</dt>
            <dd data-testid="sub">{session.sub}</dd>
            {typeof session.user.email === 'string' && (<><dt>Email</dt><dd>{session.user.email}</dd></>)}
            <dt>Session ends</dt>
            <dd>{session.endsAt.toISOString()}</dd>
          </dl>
        ) : (
          <p>Log in with the identity provider to start a session.</p>
        )}
        <p className="actions">
          {session ? (
            <a className="button secondary" href="/oauth2/logout" id="logout">Log out</a>
          ) : (
            <a className="button" href="/oauth2/login?redirect=/" id="login">Log in</a>
          )}
        </p>
      </section>
      <ApiCall />
    </main>
  );
}
