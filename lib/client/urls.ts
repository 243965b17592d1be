/**
 * The URLs the browser side of an app uses to talk to Gatehouse (SPEC §3), pure. Every one sits
 * under the ingress path (`basePath`, '' for an ingress at the root): the app may live under a
 * path prefix (`INGRESS=https://example.com/app`), and the browser sees that prefix even though
 * Next.js renders the pages without it.
 */
import { ROUTES } from '../routes';

/** `/app/` → `/app`, `/` and '' → '' (the form the route constants are appended to). */
export const normalizeBasePath = (basePath: string | undefined) => (basePath ?? '').replace(/\/+$/, '');

/** Query parameters of `/oauth2/login` (SPEC §3). */
export interface LoginOptions {
  /** Where to land after login: a same-origin path including the ingress path. Default: the current page. */
  redirect?: string;
  /** `acr_values` (only when the IdP supports it). */
  level?: string;
  /** `ui_locales` (only when the IdP supports it). */
  locale?: string;
  /** Ends the current session first; `login` also forces re-authentication (`max_age=0`). */
  prompt?: 'login' | 'select_account';
  domainHint?: string;
  /** With several identity providers (SPEC §12): which one. */
  provider?: string;
}

export interface LogoutOptions {
  /** Where to land after the IdP has ended its session. Default: the current page. */
  redirect?: string;
}

const withQuery = (path: string, params: Record<string, string | undefined>) => {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
};

export function loginUrl(basePath: string, options: LoginOptions = {}): string {
  return withQuery(`${normalizeBasePath(basePath)}${ROUTES.login}`, {
    redirect: options.redirect,
    level: options.level,
    locale: options.locale,
    prompt: options.prompt,
    domain_hint: options.domainHint,
    provider: options.provider,
  });
}

export function logoutUrl(basePath: string, options: LogoutOptions = {}): string {
  return withQuery(`${normalizeBasePath(basePath)}${ROUTES.logout}`, { redirect: options.redirect });
}

export const sessionUrl = (basePath: string) => `${normalizeBasePath(basePath)}${ROUTES.session}`;
export const refreshUrl = (basePath: string) => `${normalizeBasePath(basePath)}${ROUTES.sessionRefresh}`;

/**
 * The page the browser shows, as a `redirect` target: path and query as the browser has them
 * (ingress path included). The fragment is left out: it never reaches the server, and Gatehouse's
 * redirect sanitising would have to drop it anyway.
 */
export const currentPage = (location: { pathname: string; search: string }) => `${location.pathname}${location.search}`;

/** Name of the BroadcastChannel that keeps the tabs of one ingress in step (its cookies are scoped to that path). */
export const channelName = (basePath: string) => `gatehouse.session:${normalizeBasePath(basePath) || '/'}`;
