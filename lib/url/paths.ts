/**
 * Path normalisation and ignore globs for auto-login (SPEC §4 item 2). An ignored path is served
 * without a session, so every rule here leans one way: a path that could be read as something
 * else by the upstream is never normalised into an ignored one.
 */

/**
 * The normalised form of a request path (SPEC §4 item 2): percent-decoded once, `\` read as `/`,
 * `.` and `..` segments resolved (never above root), repeated `/` collapsed, trailing `/` dropped
 * (except for the root). The input is the path only, without query or fragment.
 *
 * Security: returns `null` when the path is invalid or ambiguous, and callers must then treat it
 * as protected (never as ignored). Invalid: bad percent-encoding, invalid UTF-8 (`%C0%AE`), a
 * decoded control character (`%00`), no leading `/`. Ambiguous, because servers disagree on it:
 * a `%2e`, `%2f` or `%5c` still present after decoding (a server that decodes twice sees `.`, `/`
 * or `\`); a `..` that follows an empty segment (`/a//..` is `/a` with RFC 3986 dot removal but
 * `/` when slashes are merged first); `.;`/`..;` segments (Tomcat reads `..;` as `..`).
 */
export function normalizePath(rawPath: string): string | null {
  if (/%(?![0-9a-fA-F]{2})/.test(rawPath)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (/\p{Cc}/u.test(decoded) || /%(?:2e|2f|5c)/i.test(decoded)) return null;
  const unified = decoded.replaceAll('\\', '/');
  if (!unified.startsWith('/')) return null;

  const segments: string[] = [];
  let sawEmptySegment = false;
  for (const segment of unified.slice(1).split('/')) {
    if (segment === '') {
      sawEmptySegment = true;
    } else if (/^\.\.?;/.test(segment)) {
      return null;
    } else if (segment === '..') {
      if (sawEmptySegment) return null;
      segments.pop();
    } else if (segment !== '.') {
      segments.push(segment);
    }
  }
  return `/${segments.join('/')}`;
}

/**
 * Compiles `AUTO_LOGIN_IGNORE_PATHS` globs (SPEC §2, §4 item 2) into one matcher for paths from
 * {@link normalizePath}. `*` as a whole segment matches exactly one non-empty segment, `*` inside
 * a segment (`*.js`) any run of characters other than `/`, and `**` any depth including none
 * (`/public/**` matches `/public`, `/public/a`, `/public/a/b`, not `/publicity`). Everything else
 * is literal and written decoded (`/a b`, not `/a%20b`); repeated and trailing `/` are ignored.
 *
 * Matching is case-sensitive on purpose: a case change can only make a path miss an ignore glob,
 * which keeps it protected (`/API/health` is not ignored by `/api/health`). For the same reason
 * Next.js data suffixes need no special case: `/api/health.rsc` misses `/api/health` and stays
 * protected, and `/public/**` already covers `/public/x.rsc`.
 *
 * @throws TypeError for a glob that does not start with `/`, or has `**` inside a segment or a `.`/`..` segment
 */
export function compileGlobs(globs: readonly string[]): (normalizedPath: string) => boolean {
  const patterns = globs.map(parseGlob);
  return (normalizedPath) => {
    // The root has no segments: `/**` and the glob `/` match it.
    const segments = normalizedPath === '/' ? [] : normalizedPath.slice(1).split('/');
    return patterns.some((pattern) => matchesSegments(pattern, segments));
  };
}

/**
 * Paths served without a session regardless of configuration (SPEC §4 item 2): `/favicon.ico`,
 * `/robots.txt` and Next.js build assets (`/_next/static/**`, `/_next/image`, the dev HMR socket).
 * Not all of `/_next/**`: in sidecar mode `/_next/data/**` can carry an upstream Next.js app's
 * server-side props. `ERROR_PATH` is added by callers, who know the configuration.
 */
export const isAlwaysPublic: (normalizedPath: string) => boolean = compileGlobs([
  '/favicon.ico',
  '/robots.txt',
  '/_next/static/**',
  '/_next/image',
  '/_next/webpack-hmr',
]);

/**
 * A glob as blocks of single-segment matchers separated by `**`: `/a`, then `**`, then `/b/*.js`
 * is `[[a], [b, *.js]]`. Each segment matcher is the segment split at `*` (`['', '.js']`; a literal
 * segment is one part; a whole-segment `*` is `['', '']`).
 */
type Glob = string[][][];

function parseGlob(glob: string): Glob {
  if (!glob.startsWith('/')) throw new TypeError(`ignore glob "${glob}" must start with /`);
  const blocks: string[][][] = [[]];
  for (const segment of glob.split('/').filter(Boolean)) {
    if (segment === '**') {
      blocks.push([]);
      continue;
    }
    if (segment.includes('**') || segment === '.' || segment === '..') {
      throw new TypeError(`ignore glob "${glob}": "${segment}" is not a valid segment (use * or ** alone)`);
    }
    blocks[blocks.length - 1].push(segment.split('*'));
  }
  return blocks;
}

/**
 * Matching without backtracking, in time linear in the path for a given glob (a regular
 * expression built from `*-*-*.js` took seconds on one long segment). Between `**` markers the
 * blocks are placed leftmost in order, which is exact for patterns whose only wildcards are
 * stars: the first block must start the path, the last must end it.
 */
function matchesSegments(blocks: Glob, segments: readonly string[]): boolean {
  const first = blocks[0];
  if (blocks.length === 1) return first.length === segments.length && blockAt(first, segments, 0);
  const last = blocks[blocks.length - 1];
  let from = first.length;
  const end = segments.length - last.length;
  if (end < from || !blockAt(first, segments, 0) || !blockAt(last, segments, end)) return false;
  for (const block of blocks.slice(1, -1)) {
    let at = from;
    while (at + block.length <= end && !blockAt(block, segments, at)) at++;
    if (at + block.length > end) return false;
    from = at + block.length;
  }
  return true;
}

const blockAt = (block: string[][], segments: readonly string[], at: number) => block.every((parts, i) => segmentMatches(parts, segments[at + i]));

/** One segment against `*`-separated literal parts: prefix, suffix, and the middle parts leftmost in order. */
function segmentMatches(parts: string[], segment: string): boolean {
  if (parts.length === 1) return segment === parts[0];
  const head = parts[0];
  const tail = parts[parts.length - 1];
  if (segment.length === 0 || segment.length < head.length + tail.length || !segment.startsWith(head) || !segment.endsWith(tail)) return false;
  let pos = head.length;
  const end = segment.length - tail.length;
  for (const part of parts.slice(1, -1)) {
    const at = segment.indexOf(part, pos);
    if (at < 0 || at + part.length > end) return false;
    pos = at + part.length;
  }
  return true;
}
