/**
 * The server's response class (`http.createServer({ ServerResponse })`): last word on the caching
 * headers of what Next.js answers (SPEC §3, §4 item 5). Every `/oauth2/*` answer is `no-store`, and
 * a page answer that carries a Gatehouse `Set-Cookie` (a refreshed cookie session set by proxy.ts)
 * is never storable by a shared cache, whatever Next or the page set (a prerendered page says
 * `s-maxage=…`). Node sends every head through `writeHead` (also the implicit one of a first
 * `write`), so overriding it here sees all of them.
 */
import { ServerResponse, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { isSharedCacheHeader } from '../upstream/response-headers';

export interface NextHeaderRules {
  oauth2: boolean;
  /** Whether a cookie name is one of Gatehouse's. */
  isOwnCookie: (name: string) => boolean;
}

export class GatehouseResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** Set when the answer is Next's to write; the server's own answers need no rules. */
  nextRules?: NextHeaderRules;

  override writeHead(status: number, ...rest: unknown[]): this {
    const rules = this.nextRules;
    if (!rules) return super.writeHead(status, ...(rest as [string, OutgoingHttpHeaders]));
    const headers = rest.find((arg) => typeof arg === 'object' && arg !== null && !Array.isArray(arg)) as OutgoingHttpHeaders | undefined;
    // Headers handed to writeHead itself are applied first, so the rules see them.
    if (headers) for (const [name, value] of Object.entries(headers)) if (value !== undefined) this.setHeader(name, value);
    if (rules.oauth2) {
      this.setHeader('Cache-Control', 'no-store');
    } else if (this.carriesOwnCookie(rules.isOwnCookie)) {
      this.setHeader('Cache-Control', 'private, no-store');
      for (const name of this.getHeaderNames()) if (isSharedCacheHeader(name)) this.removeHeader(name);
    }
    const message = typeof rest[0] === 'string' ? rest[0] : undefined;
    const rawHeaders = Array.isArray(rest.at(-1)) ? (rest.at(-1) as unknown as OutgoingHttpHeaders) : undefined;
    if (message !== undefined) return rawHeaders ? super.writeHead(status, message, rawHeaders) : super.writeHead(status, message);
    return rawHeaders ? super.writeHead(status, rawHeaders) : super.writeHead(status);
  }

  private carriesOwnCookie(isOwn: (name: string) => boolean): boolean {
    const value = this.getHeader('set-cookie');
    const cookies = value === undefined ? [] : Array.isArray(value) ? value : [String(value)];
    return cookies.some((cookie) => isOwn(cookie.slice(0, cookie.indexOf('=')).trim()));
  }
}
