'use client';
/**
 * Holds the page's one `SessionClient` for `useSession()`. Rendered by the root layout with the
 * ingress path the request came through (`getBasePath()` from lib/app-server.ts): Next.js renders
 * pages without that prefix, but the browser's requests to `/oauth2/*` need it.
 */
import { useState, type ReactNode } from 'react';
import { SessionClient } from './session-client';
import { normalizeBasePath } from './urls';
import { SessionClientContext } from './use-session';

export function SessionProvider({ basePath = '', children }: { basePath?: string; children: ReactNode }) {
  // Created once per page; it only starts talking to the server when a useSession() mounts.
  const [client] = useState(() => new SessionClient(normalizeBasePath(basePath)));
  return <SessionClientContext.Provider value={client}>{children}</SessionClientContext.Provider>;
}
