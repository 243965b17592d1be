/**
 * Last word on the caching headers of what Next.js answers (SPEC §3, §4 item 5): every `/oauth2/*`
 * answer is `no-store`, and a page answer that carries a Gatehouse `Set-Cookie` (a refreshed cookie
 * session set by proxy.ts) is never storable by a shared cache, whatever Next or the page set
 * (a prerendered page says `s-maxage=…`).
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { isSharedCacheHeader } from '../upstream/response-headers';

export interface NextHeaderRules {
  oauth2: boolean;
  /** Whether a cookie name is one of Gatehouse's. */
  isOwnCookie: (name: string) => boolean;
}

const carriesOwnCookie = (res: ServerResponse, isOwn: (name: string) => boolean) => {
  const value = res.getHeader('set-cookie');
  const cookies = value === undefined ? [] : Array.isArray(value) ? value : [String(value)];
  return cookies.some((cookie) => isOwn(cookie.slice(0, cookie.indexOf('=')).trim()));
};

/**
 * Applies the rules just before the head is written, however Next writes it (`writeHead` with or
 * without headers, or implicitly on the first write, which calls `writeHead` too).
 */
export function enforceNextHeaders(res: ServerResponse, rules: NextHeaderRules): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    const headers = rest.find((arg) => typeof arg === 'object' && arg !== null && !Array.isArray(arg)) as OutgoingHttpHeaders | undefined;
    // Headers handed to writeHead itself are applied first, so the rules see them.
    if (headers) for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
    const message = typeof rest[0] === 'string' ? [rest[0]] : [];
    if (rules.oauth2) {
      res.setHeader('Cache-Control', 'no-store');
    } else if (carriesOwnCookie(res, rules.isOwnCookie)) {
      res.setHeader('Cache-Control', 'private, no-store');
      for (const name of res.getHeaderNames()) if (isSharedCacheHeader(name)) res.removeHeader(name);
    }
    return writeHead(status, ...message, ...(Array.isArray(rest.at(-1)) ? [rest.at(-1)] : []));
  }) as ServerResponse['writeHead'];
}
