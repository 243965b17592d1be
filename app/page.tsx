import { getBasePath, getSession } from '@/lib/app-server';
import { displayName } from '@/lib/client/user';
import { loginPath, ROUTES } from '@/lib/routes';
import { ApiCall } from './api-call';

export const dynamic = 'force-dynamic';

/** The starter page: who is logged in, the examples, and a way to see the upstream receive the Bearer token. */
export default async function Home() {
  const [session, basePath] = await Promise.all([getSession(), getBasePath()]);
  // Plain links with the ingress path: the browser may see the app under a prefix Next.js does not know about.
  const href = (path: string) => `${basePath}${path}`;
  return (
    <main>
      <h1>Gatehouse</h1>
      <p className="lead">OpenID Connect login in front of your app. The browser never holds a token.</p>
      <section className="card" aria-labelledby="who">
        <h2 id="who">{session ? `Logged in as ${displayName(session.user)}` : 'Not logged in'}</h2>
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
            <a className="button secondary" href={href(ROUTES.logout)} id="logout">Log out</a>
          ) : (
            <a className="button" href={loginPath(basePath, `${basePath}/`)} id="login">Log in</a>
          )}
        </p>
      </section>
      <section className="card" aria-labelledby="examples">
        <h2 id="examples">Examples</h2>
        <p>Starting points for your own pages (app/examples/); see “Use as a starter” in the README.</p>
        <ul>
          <li><a href={href('/examples/protected')}>Protected page</a>: a server component that reads the session with <code>getSession()</code>, or sends you to the login.</li>
          <li><a href={href('/examples/api-call')}>API call from a route handler</a>: the server calls the API with your access token (<code>getAccessToken()</code>).</li>
          <li><a href={href('/examples/client')}>Client component</a>: <code>useSession()</code> shows the session, refreshes it before the token expires, and follows logins and logouts in other tabs.</li>
        </ul>
      </section>
      <ApiCall />
    </main>
  );
}
