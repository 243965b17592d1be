import { SessionCard } from './session-card';

/** The client-side example: everything on this page comes from useSession() in the browser. */
export default function ClientExamplePage() {
  return (
    <main>
      <h1>Client component</h1>
      <p className="lead">
        <code>useSession()</code> reads <code>/oauth2/session</code>, refreshes the tokens shortly before the access token
        expires, and follows logins, refreshes and logouts in your other tabs. It never sees a token.
      </p>
      <SessionCard />
    </main>
  );
}
