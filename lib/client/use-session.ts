'use client';
/**
 * `useSession()` for client components: the Gatehouse session as the browser may know it (user,
 * session times, token timing; never a token), kept fresh and in step across tabs by the
 * `SessionClient` that `<SessionProvider>` (app/layout.tsx) holds.
 *
 *   const { status, user, login, logout } = useSession();
 *   if (status === 'unauthenticated') return <button onClick={() => login()}>Log in</button>;
 */
import { createContext, useContext, useMemo, useSyncExternalStore } from 'react';
import { LOADING, type SessionClient, type SessionState } from './session-client';
import type { LoginOptions, LogoutOptions } from './urls';

export const SessionClientContext = createContext<SessionClient | null>(null);

export type UseSession = SessionState & {
  /** Navigates to the login, back to this page afterwards (or `options.redirect`). */
  login(options?: LoginOptions): void;
  /** Navigates to the logout; every tab shows the session ended. */
  logout(options?: LogoutOptions): void;
  /** Refreshes the tokens now (the hook does it by itself shortly before they expire). */
  refresh(): Promise<SessionState>;
  /** Reads the session again. */
  reload(): Promise<SessionState>;
  /** The ingress path the app is served under ('' at the root), for links to the app's own pages. */
  basePath: string;
};

/** The server renders `loading`: it has no business guessing what the browser will learn. */
const serverState = () => LOADING;

/** The ingress path ('' at the root) for links to the app's own pages, without reading the session. */
export function useBasePath(): string {
  return useContext(SessionClientContext)?.basePath ?? '';
}

export function useSession(): UseSession {
  const client = useContext(SessionClientContext);
  if (!client) throw new Error('useSession() needs a <SessionProvider> above it (app/layout.tsx renders one)');
  const state = useSyncExternalStore(client.subscribe, client.getState, serverState);
  return useMemo(
    () => ({ ...state, login: client.login, logout: client.logout, refresh: client.refresh, reload: client.reload, basePath: client.basePath }),
    [state, client],
  );
}
