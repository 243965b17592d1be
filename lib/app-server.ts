/**
 * Gatehouse's server-side API for the app's own pages and route handlers (everything under app/
 * except app/oauth2/): the session, the user's access token, the ingress path the request came
 * through, and where an upstream route leads. Client components use lib/client/ instead.
 *
 *   import { getSession, getAccessToken } from '@/lib/app-server';
 */
import 'server-only';
import { headers } from 'next/headers';
import { gatehouse } from './gatehouse';
import { basePathOf } from './http/ingress';
import { INGRESS_HEADER } from './http/internal-headers';
import { loginPath } from './routes';
import { matchUpstream, upstreamUrl } from './upstream/plan';

export { getAccessToken, getSession, type SessionSummary } from './session/get-session';

/**
 * The ingress path of this request ('' at the root, `/app` for `INGRESS=https://example.com/app`).
 * Next.js renders the app without it (the server removes it), but every URL the browser is given —
 * links, redirects, `/oauth2/*` — needs it.
 */
export async function getBasePath(): Promise<string> {
  // Set by Gatehouse's server for every request it hands to Next; a client cannot send it. Read
  // before the config: it makes the page dynamic, so `next build` never prerenders one (there is
  // no configuration at build time).
  const index = Number((await headers()).get(INGRESS_HEADER) ?? 0) || 0;
  const { ingresses } = gatehouse().config;
  return basePathOf(ingresses[index] ?? ingresses[0]);
}

/** `<ingress path>/oauth2/login?redirect=<ingress path><path>`: the login that comes back to `path` (an app path such as `/examples/protected`). */
export async function loginHref(path: string): Promise<string> {
  const basePath = await getBasePath();
  return loginPath(basePath, `${basePath}${path}`);
}

/**
 * The upstream URL Gatehouse would forward `path` to (`UPSTREAMS=/api=http://api:8080` maps
 * `/api/users` to `http://api:8080/users`), or null when no upstream route matches. For route
 * handlers that call an API themselves with `getAccessToken()`.
 */
export function upstreamUrlFor(path: string, search = ''): URL | null {
  const route = matchUpstream(gatehouse().config.upstreams, path);
  return route && upstreamUrl(route, path, search);
}
