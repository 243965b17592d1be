/**
 * One request as the actions see it: plain values, no Next or Node types, so actions test without
 * a server (STYLE rule 3).
 */
import type { Config } from '../config';
import { cookieScope, parseCookies, type CookieScope } from './cookies';
import { basePathOf } from './ingress';
import { hasSecFetchHeaders, isNavigation } from './navigation';
import { correlationId } from './request-id';
import { loginPath } from '../routes';

export interface RequestContext {
  method: string;
  /** Path below the ingress path, starting with '/'. */
  innerPath: string;
  query: URLSearchParams;
  /** The raw query string including '?', or ''. */
  search: string;
  headers: Headers;
  cookies: Map<string, string>;
  ingress: URL;
  basePath: string;
  scope: CookieScope;
  requestId: string;
  navigation: boolean;
  /** A browser navigation, or a client that says nothing about itself (curl, tests, old browsers). */
  interactive: boolean;
  now: number;
}

export function createContext(config: Config, r: { method: string; innerPath: string; search: string; headers: Headers; ingressIndex?: number }): RequestContext {
  const ingress = config.ingresses[r.ingressIndex ?? 0] ?? config.ingresses[0];
  const basePath = basePathOf(ingress);
  const navigation = isNavigation(r.method, r.headers);
  return {
    method: r.method,
    innerPath: r.innerPath,
    query: new URLSearchParams(r.search),
    search: r.search,
    headers: r.headers,
    cookies: parseCookies(r.headers.get('cookie')),
    ingress,
    basePath,
    scope: cookieScope(config, basePath),
    requestId: correlationId(r.headers.get('x-request-id')),
    navigation,
    interactive: navigation || !hasSecFetchHeaders(r.headers),
    now: Date.now(),
  };
}

/** `<ingress-path>/oauth2/login?redirect=<target>`: where "sign in" and "try again" lead. */
export const loginPathOf = (ctx: RequestContext, target?: string) => loginPath(ctx.basePath, target);

/** The ingress path as a redirect target: the fallback for every unusable `redirect`. */
export const homePath = (ctx: RequestContext) => ctx.basePath || '/';
