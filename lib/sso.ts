/**
 * Single sign-on decisions (SPEC §8), pure: which redirect targets an SSO server keeps absolute,
 * which origins get CORS on the session API, and where an SSO proxy sends login and logout.
 */
import type { Config } from './config';
import { isOnDomain } from './config-sso';
import { sanitizeRedirect, ssoRedirect } from './url/redirect';
import { ROUTES } from './routes';

/**
 * A `redirect` value as login and logout keep it: on an SSO server an absolute URL on the SSO
 * domain stays absolute; everything else goes through `sanitizeRedirect` as in standalone mode.
 */
export function redirectTarget(config: Config, requested: string | null | undefined, fallback: string): string {
  const sso = config.sso;
  if (sso?.mode === 'server') {
    const absolute = ssoRedirect(requested, sso.domain, sso.allowHttp);
    if (absolute) return absolute;
  }
  return sanitizeRedirect(requested, fallback);
}

/** Where login and logout land without a usable `redirect`: SSO_DEFAULT_REDIRECT_URL on an SSO server. */
export const defaultTarget = (config: Config, home: string): string =>
  config.sso?.mode === 'server' && config.sso.defaultRedirectUrl ? config.sso.defaultRedirectUrl.href : home;

/** The `Origin` to echo with credentials on the session API, or null (no CORS headers at all). */
export function corsOrigin(config: Config, origin: string | undefined): string | null {
  const sso = config.sso;
  if (sso?.mode !== 'server' || !origin || origin === 'null') return null;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return null;
  }
  const schemeOk = url.protocol === 'https:' || (sso.allowHttp && url.protocol === 'http:');
  if (!schemeOk || url.origin !== origin || !isOnDomain(url.hostname, sso.domain)) return null;
  return url.origin;
}

/** The session API paths that answer CORS on an SSO server. */
export const isSessionApi = (innerPath: string) => innerPath === ROUTES.session || innerPath === ROUTES.sessionRefresh;

/** Endpoints an SSO proxy forwards to its server, which owns the session cookie (SPEC §8). */
export const isForwardedToServer = (innerPath: string) =>
  isSessionApi(innerPath) || innerPath === ROUTES.frontChannelLogout || innerPath === ROUTES.backChannelLogout || innerPath === ROUTES.logoutLocal;

/** `<SSO_SERVER_URL>/oauth2/<endpoint>`, with the query given. */
export function serverUrl(serverBase: URL, innerPath: string, search: string): URL {
  const url = new URL(serverBase.href);
  url.pathname = `${serverBase.pathname.replace(/\/+$/, '')}${innerPath}`;
  url.search = search;
  return url;
}

/**
 * SSO proxy: `/oauth2/login`, `/oauth2/logout` and `/oauth2/sign-in` go to the server with an
 * absolute redirect back to this proxy (its ingress + the sanitised target); the other login
 * parameters travel along.
 */
export function serverRedirect(serverBase: URL, endpoint: typeof ROUTES.login | typeof ROUTES.logout | typeof ROUTES.signIn, ingress: URL, target: string, query: URLSearchParams): string {
  const params = new URLSearchParams();
  for (const [name, value] of query) if (name !== 'redirect') params.append(name, value);
  params.set('redirect', `${ingress.origin}${target}`);
  return serverUrl(serverBase, endpoint, `?${params}`).href;
}
