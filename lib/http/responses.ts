/**
 * Turns action results into `Response`s: redirects, JSON, and the one mapping from errors to what
 * a browser or a script sees (SPEC §7). The web edge: Gatehouse's cookies are serialised here.
 */
import type { Config } from '../config';
import { ERRORS, type GatehouseError } from '../errors';
import { log } from '../log';
import { homePath, loginPathOf, type RequestContext } from './context';
import { setCookieHeaders, type SetCookie } from './cookies';
import { renderErrorPage } from './error-page';

/** Appends one `Set-Cookie` per cookie to web `Headers` (a route handler's or proxy.ts's answer); returns them. */
export function withCookies(headers: Headers, setCookies: readonly SetCookie[]): Headers {
  for (const header of setCookieHeaders(setCookies)) headers.append('Set-Cookie', header);
  return headers;
}

export function redirect(location: string, setCookies: readonly SetCookie[] = []): Response {
  return new Response(null, { status: 302, headers: withCookies(new Headers({ Location: location }), setCookies) });
}

export function json(status: number, body: unknown, setCookies: readonly SetCookie[] = []): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: withCookies(new Headers({ 'Content-Type': 'application/json; charset=utf-8' }), setCookies),
  });
}

export interface ErrorOptions {
  /** Render for a person (page or ERROR_PATH) rather than a script (JSON). */
  html: boolean;
  /** Where "try again" should finally land. */
  retryTarget?: string;
  setCookies?: readonly SetCookie[];
}

/**
 * An error answer as plain data (SPEC §7): JSON for scripts, the error page or an `ERROR_PATH`
 * redirect for people. Next route handlers turn it into a `Response` (`errorResponse`); the Node
 * server writes it directly (lib/server/error-writer.ts).
 */
export interface ErrorAnswer {
  status: number;
  /** Without `Set-Cookie`: those are in `setCookies`, as values the writer serialises. */
  headers: Record<string, string>;
  setCookies: readonly SetCookie[];
  body: string;
}

export function errorAnswer(config: Config, ctx: RequestContext, error: GatehouseError, options: ErrorOptions): ErrorAnswer {
  const { status, message } = ERRORS[error.code];
  const level = status >= 500 ? 'error' : 'info';
  // The request comes along for whoever investigates: its headers and query pass through the
  // log's redaction (lib/log-redact.ts), so cookies, credentials and an authorization code do not.
  log[level]('request failed', {
    correlation_id: ctx.requestId,
    error_code: error.code,
    status,
    path: ctx.innerPath,
    request: { method: ctx.method, query: ctx.query, headers: ctx.headers },
    cause: error.cause instanceof Error ? error.cause : undefined,
  });
  const setCookies = options.setCookies ?? [];
  if (!options.html) {
    const body = JSON.stringify({ error: error.code, error_description: message, correlation_id: ctx.requestId });
    return { status, headers: { 'Content-Type': 'application/json; charset=utf-8' }, setCookies, body };
  }
  if (config.errorPath) {
    const query = new URLSearchParams({ correlation_id: ctx.requestId, status_code: String(status) });
    return { status: 302, headers: { Location: `${config.errorPath}?${query}` }, setCookies, body: '' };
  }
  const body = renderErrorPage({
    status,
    message,
    correlationId: ctx.requestId,
    retryUrl: loginPathOf(ctx, options.retryTarget ?? homePath(ctx)),
    homeUrl: homePath(ctx),
  });
  return { status, headers: { 'Content-Type': 'text/html; charset=utf-8' }, setCookies, body };
}

export function errorResponse(config: Config, ctx: RequestContext, error: GatehouseError, options: ErrorOptions): Response {
  const answer = errorAnswer(config, ctx, error, options);
  return new Response(answer.body || null, { status: answer.status, headers: withCookies(new Headers(answer.headers), answer.setCookies) });
}

/** Headers every `/oauth2/*` answer carries (SPEC §3, §7). */
export function finish(response: Response, ctx: RequestContext): Response {
  response.headers.set('Cache-Control', 'no-store');
  response.headers.set('X-Request-Id', ctx.requestId);
  return response;
}
