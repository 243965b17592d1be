/**
 * The cookies one browser holds, fed by the cookies an answer sets: what the next request sends.
 * Enough for actions that all live under one ingress path; attribute checks belong to the cookie
 * tests. Takes the session layer's values as they are, and a `Response`'s `Set-Cookie` headers.
 */
import type { SetCookie } from '../http/cookies';

export class CookieJar {
  readonly cookies = new Map<string, string>();

  /** A browser holding what these cookies set. */
  static of(setCookies: readonly SetCookie[]): CookieJar {
    const jar = new CookieJar();
    jar.take(setCookies);
    return jar;
  }

  /** Applies every cookie an answer sets (a `Response`, or the values themselves); returns the answer. */
  take<T extends Response | readonly SetCookie[]>(answer: T): T {
    if (answer instanceof Response) {
      for (const header of answer.headers.getSetCookie()) {
        const [pair, ...attributes] = header.split(';').map((p) => p.trim());
        const eq = pair.indexOf('=');
        this.apply(pair.slice(0, eq), pair.slice(eq + 1), attributes.some((a) => a.toLowerCase() === 'max-age=0'));
      }
    } else {
      for (const c of answer as readonly SetCookie[]) this.apply(c.name, c.value, c.maxAge === 0);
    }
    return answer;
  }

  private apply(name: string, value: string, expired: boolean): void {
    if (expired) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }

  /** The `Cookie` header a browser would send. */
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /** A copy: another tab, or a copied cookie replayed later. */
  clone(): CookieJar {
    const copy = new CookieJar();
    for (const [name, value] of this.cookies) copy.cookies.set(name, value);
    return copy;
  }
}
