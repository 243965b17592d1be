import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGlobs, isAlwaysPublic, normalizePath } from './paths';

const normalisation: { name: string; input: string; want: string | null }[] = [
  { name: 'root', input: '/', want: '/' },
  { name: 'plain', input: '/a/b', want: '/a/b' },
  { name: 'trailing slash dropped', input: '/a/b/', want: '/a/b' },
  { name: 'dot-dot', input: '/a/../b', want: '/b' },
  { name: 'dot', input: '/a/./b', want: '/a/b' },
  { name: 'repeated slashes', input: '//a///b/', want: '/a/b' },
  { name: 'dot-dot above root', input: '/../../admin', want: '/admin' },
  { name: 'encoded dot-dot', input: '/%2e%2e/admin', want: '/admin' },
  { name: 'encoded dot-dot upper case', input: '/a/%2E%2E/admin', want: '/admin' },
  { name: 'encoded slash', input: '/a%2Fb', want: '/a/b' },
  { name: 'encoded slash then dot-dot', input: '/public%2F..%2Fsecret', want: '/secret' },
  { name: 'backslash as slash', input: '/a\\b', want: '/a/b' },
  { name: 'encoded backslash then dot-dot', input: '/public%5C..%5Csecret', want: '/secret' },
  { name: 'decoded once only', input: '/a%2520b', want: '/a%20b' },
  { name: 'space', input: '/a%20b', want: '/a b' },
  { name: 'UTF-8', input: '/s%C3%B8k', want: '/søk' },
  { name: 'semicolon in a normal segment', input: '/a;v=1/b', want: '/a;v=1/b' },
  { name: 'dot-dot after an empty segment is ambiguous', input: '/a/%2F..', want: null },
  { name: 'dot-dot after repeated slashes is ambiguous', input: '/a/b//../../c', want: null },
  { name: 'invalid escape', input: '/%ZZ', want: null },
  { name: 'trailing percent', input: '/a%', want: null },
  { name: 'invalid UTF-8 (overlong dot)', input: '/%C0%AE', want: null },
  { name: 'NUL', input: '/%00', want: null },
  { name: 'CR LF', input: '/a%0d%0ab', want: null },
  { name: 'raw tab', input: '/a\tb', want: null },
  { name: 'double-encoded dots', input: '/public/%252e%252e/secret', want: null },
  { name: 'double-encoded slash', input: '/public%252F..%252Fsecret', want: null },
  { name: 'double-encoded backslash', input: '/a%255Cb', want: null },
  { name: 'Tomcat dot-dot-semicolon', input: '/public/..;/secret', want: null },
  { name: 'encoded semicolon', input: '/public/..%3B/secret', want: null },
  { name: 'no leading slash', input: 'a/b', want: null },
  { name: 'empty', input: '', want: null },
];

for (const { name, input, want } of normalisation) {
  test(`normalizePath: ${name}`, () => {
    assert.equal(normalizePath(input), want);
  });
}

test('normalizePath: a normalised path is a fixed point', () => {
  for (const { input, want } of normalisation) {
    if (want === null || /[%\\ ]/.test(want)) continue;
    assert.equal(normalizePath(want), want, input);
  }
});

const ignored = compileGlobs(['/public/**', '/api/health', '/api/*/status', '/static/*.js']);
/** How the interception layer decides: normalise, then match; `null` stays protected. */
const isIgnored = (rawPath: string) => {
  const path = normalizePath(rawPath);
  return path !== null && ignored(path);
};

const globCases: { name: string; path: string; want: boolean }[] = [
  { name: 'exact', path: '/api/health', want: true },
  { name: 'exact with trailing slash', path: '/api/health/', want: true },
  { name: 'exact with repeated slashes', path: '//api//health', want: true },
  { name: 'longer segment', path: '/api/healthz', want: false },
  { name: 'below an exact glob', path: '/api/health/x', want: false },
  { name: 'dot-dot out of an exact glob', path: '/api/health/../secret', want: false },
  { name: 'Next data suffix on an exact glob', path: '/api/health.rsc', want: false },
  { name: '** root itself', path: '/public', want: true },
  { name: '** one level', path: '/public/a', want: true },
  { name: '** deeper', path: '/public/a/b/c.css', want: true },
  { name: '** with Next data suffix', path: '/public/x.rsc', want: true },
  { name: 'dot-dot out of **', path: '/public/../private', want: false },
  { name: 'encoded dot-dot out of **', path: '/public/%2e%2e/private', want: false },
  { name: 'encoded slash dot-dot out of **', path: '/public%2F..%2Fprivate', want: false },
  { name: 'double-encoded dot-dot in **', path: '/public/%252e%252e/private', want: false },
  { name: 'Tomcat dot-dot-semicolon in **', path: '/public/..;/private', want: false },
  { name: 'empty segment before dot-dot in **', path: '/public//../private', want: false },
  { name: 'dot-dot into **', path: '/private/../public/x', want: true },
  { name: 'case change', path: '/PUBLIC/x', want: false },
  { name: 'case change on exact', path: '/API/health', want: false },
  { name: 'prefix without segment boundary', path: '/publicity', want: false },
  { name: 'single-segment *', path: '/api/v1/status', want: true },
  { name: '* needs a segment', path: '/api/status', want: false },
  { name: '* is one segment only', path: '/api/v1/v2/status', want: false },
  { name: '* inside a segment', path: '/static/app.js', want: true },
  { name: '* inside a segment stays in it', path: '/static/a/b.js', want: false },
  { name: '* inside a segment, other suffix', path: '/static/app.json', want: false },
  { name: 'root not ignored', path: '/', want: false },
  { name: 'invalid encoding stays protected', path: '/public/%ZZ', want: false },
];

for (const { name, path, want } of globCases) {
  test(`compileGlobs: ${name} (${path})`, () => {
    assert.equal(isIgnored(path), want);
  });
}

test('compileGlobs: root globs', () => {
  assert.equal(compileGlobs(['/**'])('/'), true);
  assert.equal(compileGlobs(['/**'])('/a/b'), true);
  assert.equal(compileGlobs(['/'])('/'), true);
  assert.equal(compileGlobs(['/'])('/a'), false);
  assert.equal(compileGlobs([])('/'), false);
});

test('compileGlobs: ** in the middle matches zero or more segments', () => {
  const match = compileGlobs(['/docs/**/index.html']);
  assert.equal(match('/docs/index.html'), true);
  assert.equal(match('/docs/a/b/index.html'), true);
  assert.equal(match('/docs/a/index.htm'), false);
});

test('compileGlobs: regex characters are literal', () => {
  const match = compileGlobs(['/a.b/(x)+/[y]', '/trailing/']);
  assert.equal(match('/a.b/(x)+/[y]'), true);
  assert.equal(match('/aXb/(x)+/[y]'), false);
  assert.equal(match('/trailing'), true);
});

test('compileGlobs: several stars in one segment', () => {
  const match = compileGlobs(['/assets/*-*-*.js', '/x/a*b*c']);
  assert.equal(match('/assets/app-1-2.js'), true);
  assert.equal(match('/assets/a--b-c.js'), true);
  assert.equal(match('/assets/---.js'), true);
  assert.equal(match('/assets/app-1.js'), false);
  assert.equal(match('/assets/app-1-2.jsx'), false);
  assert.equal(match('/x/abc'), true);
  assert.equal(match('/x/aXbYc'), true);
  assert.equal(match('/x/acb'), false);
  assert.equal(match('/x/ab'), false, 'parts may not overlap');
});

/** The glob semantics written as a (backtracking) regular expression: the reference for short inputs. */
function reference(glob: string): RegExp {
  const source = glob.split('/').filter(Boolean).map((segment) => {
    if (segment === '**') return '(?:/[^/]+)*';
    if (segment === '*') return '/[^/]+';
    return `/${segment.split('*').map((t) => t.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}`;
  }).join('');
  return new RegExp(`^${source}$`);
}

test('compileGlobs: agrees with the reference semantics on random globs and paths', () => {
  let seed = 7;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
  const pick = <T>(xs: T[]) => xs[random(xs.length)];
  for (let i = 0; i < 3000; i++) {
    const glob = `/${Array.from({ length: 1 + random(4) }, () => pick(['**', '*', 'a', 'b', 'a*', '*b', 'a*b', '*a*', 'ab*ba', '*-*'])).join('/')}`;
    const path = `/${Array.from({ length: random(6) }, () => Array.from({ length: 1 + random(4) }, () => pick(['a', 'b', '-'])).join('')).join('/')}`;
    const subject = path === '/' ? '' : path;
    assert.equal(compileGlobs([glob])(path), reference(glob).test(subject), `${glob} on ${path}`);
  }
});

test('compileGlobs: hostile inputs cost work linear in their length', () => {
  // A regular expression built from these globs backtracks for seconds on such paths (issue #7).
  const match = compileGlobs(['/assets/*-*-*.js', '/x/*a*a*a*a*a*b', '/deep/**/a/**/b/**/c/**/z']);
  const paths = [`/assets/${'-'.repeat(8000)}`, `/x/${'a'.repeat(8000)}`, `/deep/${'a/b/c/'.repeat(1500)}y`];
  for (const path of paths) assert.equal(match(path), false);
  // Doubling the input must not much more than double the work: compare against a 2× input.
  const cost = (path: string) => {
    const started = process.cpuUsage();
    for (let i = 0; i < 20; i++) match(path);
    const used = process.cpuUsage(started);
    return used.user + used.system;
  };
  for (const path of paths) {
    const doubled = path.replace(/^(\/[^/]+\/)(.*)$/, (_m, head: string, rest: string) => head + rest + rest);
    const [once, twice] = [cost(path), cost(doubled)];
    assert.ok(twice < once * 6 + 20_000, `${path.slice(0, 12)}…: ${once} µs, doubled ${twice} µs`);
  }
});

test('compileGlobs: rejects malformed globs', () => {
  for (const glob of ['public/**', '/a**', '/a/../b', '/./a', '']) {
    assert.throws(() => compileGlobs([glob]), TypeError, glob);
  }
});

test('isAlwaysPublic', () => {
  for (const path of ['/favicon.ico', '/robots.txt', '/_next/static/chunks/app.js', '/_next/image', '/_next/webpack-hmr']) {
    assert.equal(isAlwaysPublic(path), true, path);
  }
  for (const path of ['/', '/favicon.ico/x', '/robots.txt.bak', '/_next/data/build/secret.json', '/_next', '/_nextx/static/a', '/api']) {
    assert.equal(isAlwaysPublic(path), false, path);
  }
});
