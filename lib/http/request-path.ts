/**
 * One reading of a request path for every decision (SPEC §4 item 2): which ingress, whether it is
 * `/oauth2`, which upstream, whether auto-login ignores it. A path that reads one way encoded and
 * another way decoded (`/api/%2e%2e/public`) could route by one and authorise by the other, so it
 * is refused outright.
 */
import { normalizePath } from '../url/paths';

export interface RequestPath {
  /** Dot segments resolved and `//` collapsed, still percent-encoded: what is forwarded. */
  raw: string;
  /** `raw` percent-decoded once: what decisions match against. */
  decoded: string;
}

function resolveSegments(path: string): string {
  const out: string[] = [];
  for (const segment of path.split('/').slice(1)) {
    if (segment === '.' || segment === '') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  const trailing = path.length > 1 && (path.endsWith('/') || /\/\.\.?$/.test(path)) && out.length > 0;
  return `/${out.join('/')}${trailing ? '/' : ''}`;
}

/** Number of segments in a decoded prefix: `/` → 0, `/api` → 1, `/a/b` → 2. */
export const segmentCount = (prefix: string) => prefix.split('/').filter(Boolean).length;

/**
 * Removes the first `count` segments of a raw path. Prefixes are matched on the decoded path but
 * cut from the raw one by segments, never by length: `/%61pi/x` under `/api` must become `/x`.
 */
export function dropSegments(rawPath: string, count: number): string {
  if (count === 0) return rawPath;
  const parts = rawPath.split('/');
  return `/${parts.slice(count + 1).join('/')}`;
}

/** Null for a path that cannot be read safely: not starting with '/', bad encoding, or ambiguous. */
export function readRequestPath(rawPath: string): RequestPath | null {
  // An encoded slash or backslash would make one segment in the raw path two in the decoded one.
  if (!rawPath.startsWith('/') || rawPath.includes('\\') || /%(2f|5c)/i.test(rawPath)) return null;
  const raw = resolveSegments(rawPath);
  const decoded = normalizePath(raw);
  if (decoded === null) return null;
  let plain: string;
  try {
    plain = decodeURIComponent(raw);
  } catch {
    return null;
  }
  // Decoding must not create new structure (dot segments, slashes) that the decisions would see.
  const strip = (p: string) => (p.length > 1 ? p.replace(/\/$/, '') : p);
  if (strip(plain) !== strip(decoded)) return null;
  return { raw, decoded };
}
