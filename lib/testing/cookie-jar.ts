/**
 * The cookies one browser holds, fed by `Set-Cookie` answers: what the next request sends. Enough
 * for actions that all live under one ingress path; attribute checks belong to the cookie tests.
 */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  /** A browser holding what these `Set-Cookie` headers set. */
  static of(setCookies: readonly string[]): CookieJar {
    const jar = new CookieJar();
    jar.take(setCookies);
    return jar;
  }

  /** Applies every `Set-Cookie` of an answer (or a list of them); returns the answer. */
  take<T extends Response | readonly string[]>(answer: T): T {
    const headers: readonly string[] = answer instanceof Response ? answer.headers.getSetCookie() : (answer as readonly string[]);
    for (const header of headers) {
      const [pair, ...attributes] = header.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const expired = attributes.some((a) => a.toLowerCase() === 'max-age=0');
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
    return answer;
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
