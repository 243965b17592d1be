/**
 * Gatehouse's own endpoints (SPEC §3), below each ingress path. The only place their paths are
 * spelled; the route handlers live at the same paths under app/oauth2/.
 */
export const OAUTH2 = '/oauth2';

export const ROUTES = {
  login: '/oauth2/login',
  /** SPEC §12: the choice of identity provider, with several of them. */
  signIn: '/oauth2/sign-in',
  callback: '/oauth2/callback',
  logout: '/oauth2/logout',
  logoutCallback: '/oauth2/logout/callback',
  logoutLocal: '/oauth2/logout/local',
  frontChannelLogout: '/oauth2/logout/frontchannel',
  backChannelLogout: '/oauth2/logout/backchannel',
  session: '/oauth2/session',
  sessionRefresh: '/oauth2/session/refresh',
  ping: '/oauth2/ping',
  ready: '/oauth2/ready',
  /** Forward-auth for nginx `auth_request`, Traefik ForwardAuth and the like. */
  auth: '/oauth2/auth',
} as const;

export type Route = (typeof ROUTES)[keyof typeof ROUTES];

/** `/oauth2` itself or anything below it: never forwarded, never gated by auto-login. */
export const isOAuth2Path = (path: string) => path === OAUTH2 || path.startsWith(`${OAUTH2}/`);

/** `<basePath>/oauth2/login?redirect=<target>`, the login URL a gate or an error page points to. */
export const loginPath = (basePath: string, target?: string) => withRedirect(basePath, ROUTES.login, target);

/** `<basePath>/oauth2/sign-in?redirect=<target>`: where navigations choose an identity provider (SPEC §12). */
export const signInPath = (basePath: string, target?: string) => withRedirect(basePath, ROUTES.signIn, target);

const withRedirect = (basePath: string, route: Route, target?: string) => `${basePath}${route}${target ? `?redirect=${encodeURIComponent(target)}` : ''}`;
