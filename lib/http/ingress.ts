/**
 * Which configured ingress a request came through (SPEC §2 `INGRESS`). The Host header only picks
 * among configured ingresses; public URLs are always built from the ingress itself (SPEC §6).
 */
export interface IngressMatch {
  index: number;
  ingress: URL;
  /** The ingress path without a trailing slash, as in the URL (percent-encoded): '' for a root ingress. */
  basePath: string;
  /** The (decoded) request path with the ingress path removed (always starts with '/'). */
  innerPath: string;
}

export const basePathOf = (ingress: URL) => (ingress.pathname === '/' ? '' : ingress.pathname);

/** The ingress path as request decisions see paths: percent-decoded (`/søk`, not `/s%C3%B8k`). */
const decodedBasePathOf = (ingress: URL) => {
  try {
    return decodeURIComponent(basePathOf(ingress));
  } catch {
    return basePathOf(ingress);
  }
};

const within = (path: string, base: string) => base === '' || path === base || path.startsWith(`${base}/`);

export function matchIngress(ingresses: readonly URL[], path: string, host: string | undefined): IngressMatch | null {
  let best: IngressMatch | null = null;
  let bestScore = -1;
  ingresses.forEach((ingress, index) => {
    const decodedBase = decodedBasePathOf(ingress);
    if (!within(path, decodedBase)) return;
    const score = decodedBase.length * 2 + (host && host.toLowerCase() === ingress.host ? 1 : 0);
    if (score > bestScore) {
      bestScore = score;
      best = { index, ingress, basePath: basePathOf(ingress), innerPath: path.slice(decodedBase.length) || '/' };
    }
  });
  return best;
}

/** An absolute public URL under the ingress: `publicUrl(ingress, '/oauth2/callback')`. */
export const publicUrl = (ingress: URL, innerPath: string) => `${ingress.origin}${basePathOf(ingress)}${innerPath}`;
