import { redirect } from 'next/navigation';
import { getBasePath, getSession, loginHref } from '@/lib/app-server';
import { displayName } from '@/lib/client/user';

export const dynamic = 'force-dynamic';

/**
 * A page only logged-in users see: a server component reads the session and sends everyone else
 * to the login, which brings them back here. (With AUTO_LOGIN=true, proxy.ts does this for every
 * page before it renders.)
 */
export default async function ProtectedPage() {
  const session = await getSession();
  if (!session) redirect(await loginHref('/examples/protected'));
  const basePath = await getBasePath();
  return (
    <main>
      <p><a href={`${basePath}/`}>← Start page</a></p>
      <h1>Protected page</h1>
      <section className="card" aria-labelledby="user">
        <h2 id="user" data-testid="protected-user">{displayName(session.user)}</h2>
        <dl>
          <dt>Subject</dt>
          <dd data-testid="protected-sub">{session.sub}</dd>
          {typeof session.user.email === 'string' && (<><dt>Email</dt><dd>{session.user.email}</dd></>)}
          <dt>Logged in at</dt>
          <dd>{session.createdAt.toISOString()}</dd>
          <dt>Session ends</dt>
          <dd>{session.endsAt.toISOString()}</dd>
          <dt>Access token expires</dt>
          <dd>{session.accessTokenExpiresAt?.toISOString() ?? 'not said by the identity provider'}</dd>
        </dl>
      </section>
    </main>
  );
}
