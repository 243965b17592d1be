import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolvesToOrigin, sameOriginRefererPath, sanitizeRedirect } from './redirect';

const FALLBACK = '/app';
const INGRESS = new URL('http://127.0.0.1:3000');

const cases: { name: string; input: string | null | undefined; want: string }[] = [
  // kept
  { name: 'root', input: '/', want: '/' },
  { name: 'plain path', input: '/dashboard', want: '/dashboard' },
  { name: 'nested path with query', input: '/a/b?x=1&y=2', want: '/a/b?x=1&y=2' },
  { name: 'query only', input: '/?tab=2', want: '/?tab=2' },
  { name: 'fragment', input: '/docs#intro', want: '/docs#intro' },
  { name: 'query carrying an absolute URL', input: '/next?to=https://evil.example', want: '/next?to=https://evil.example' },
  { name: 'encoded slash in query', input: '/search?next=%2F%2Fevil', want: '/search?next=%2F%2Fevil' },
  { name: 'encoded percent in query', input: '/s?q=100%25', want: '/s?q=100%25' },
  { name: 'encoded percent in path', input: '/files/100%25', want: '/files/100%25' },
  { name: 'space inside is encoded', input: '/my docs?q=a b', want: '/my%20docs?q=a%20b' },
  { name: 'non-ASCII letters are encoded', input: '/søk', want: '/s%C3%B8k' },
  { name: 'encoded non-ASCII kept', input: '/s%C3%B8k', want: '/s%C3%B8k' },
  { name: 'dot segments resolved', input: '/a/./b/../c', want: '/a/c' },
  { name: 'dot segments above root', input: '/../../etc', want: '/etc' },
  { name: 'colon later in path', input: '/a:b', want: '/a:b' },
  { name: 'at sign later in path', input: '/user/@me', want: '/user/@me' },
  // absolute URLs lose scheme and host
  { name: 'absolute https', input: 'https://evil.example/foo?x=1', want: '/foo?x=1' },
  { name: 'absolute http, host only', input: 'http://evil.example', want: '/' },
  { name: 'absolute upper case', input: 'HTTPS://EVIL.EXAMPLE/X', want: '/X' },
  { name: 'absolute with port and fragment', input: 'https://app.example:8443/a#b', want: '/a#b' },
  { name: 'absolute, query after host', input: 'https://evil.example?@127.0.0.1', want: '/?@127.0.0.1' },
  // missing
  { name: 'null', input: null, want: FALLBACK },
  { name: 'undefined', input: undefined, want: FALLBACK },
  { name: 'empty', input: '', want: FALLBACK },
  { name: 'too long', input: `/${'a'.repeat(3000)}`, want: FALLBACK },
  // protocol-relative and backslashes
  { name: 'protocol-relative', input: '//evil.example', want: FALLBACK },
  { name: 'triple slash', input: '///evil.example', want: FALLBACK },
  { name: 'slash backslash', input: '/\\evil.example', want: FALLBACK },
  { name: 'backslash', input: '\\evil.example', want: FALLBACK },
  { name: 'backslash later in path', input: '/a\\b', want: FALLBACK },
  { name: 'dot segment into //', input: '/..//evil.example', want: FALLBACK },
  { name: 'dot segment into // via @', input: '/@evil.example/..//evil.example', want: FALLBACK },
  { name: 'absolute URL with // path', input: 'https://evil.example//evil.example/x', want: FALLBACK },
  // relative without a leading slash
  { name: 'bare word', input: 'dashboard', want: FALLBACK },
  { name: 'at host', input: '@evil.example', want: FALLBACK },
  { name: 'query without path', input: '?x=1', want: FALLBACK },
  // schemes
  { name: 'javascript', input: 'javascript:alert(1)', want: FALLBACK },
  { name: 'javascript mixed case', input: 'JaVaScRiPt:alert(1)', want: FALLBACK },
  { name: 'data', input: 'data:text/html,<script>alert(1)</script>', want: FALLBACK },
  { name: 'vbscript', input: 'vbscript:msgbox(1)', want: FALLBACK },
  { name: 'ftp', input: 'ftp://evil.example/x', want: FALLBACK },
  { name: 'file', input: 'file:///etc/passwd', want: FALLBACK },
  { name: 'scheme without slashes', input: 'https:evil.example', want: FALLBACK },
  { name: 'scheme with one slash', input: 'http:/evil.example', want: FALLBACK },
  { name: 'scheme with backslashes', input: 'http:\\\\evil.example', want: FALLBACK },
  { name: 'scheme with three slashes', input: 'https:///evil.example', want: FALLBACK },
  { name: 'credentials in absolute URL', input: 'https://evil.example@127.0.0.1/x', want: FALLBACK },
  { name: 'encoded scheme letter', input: '%68ttps://evil.example', want: FALLBACK },
  // control characters and whitespace
  { name: 'leading space', input: ' /a', want: FALLBACK },
  { name: 'trailing space', input: '/a ', want: FALLBACK },
  { name: 'leading tab', input: '\t//evil.example', want: FALLBACK },
  { name: 'tab inside', input: '/a\tb', want: FALLBACK },
  { name: 'CRLF', input: '/\r\nSet-Cookie: x=1', want: FALLBACK },
  { name: 'NUL', input: '/\u0000/evil.example', want: FALLBACK },
  { name: 'DEL', input: '/a\u007F', want: FALLBACK },
  { name: 'C1 control', input: '/a\u0085b', want: FALLBACK },
  { name: 'space as second char', input: '/ /evil.example', want: FALLBACK },
  { name: 'no-break space', input: '/a\u00A0b', want: FALLBACK },
  // encodings
  { name: 'encoded CRLF', input: '/%0d%0aSet-Cookie:%20x=1', want: FALLBACK },
  { name: 'encoded CRLF in query', input: '/a?x=%0d%0a', want: FALLBACK },
  { name: 'encoded NUL', input: '/a%00', want: FALLBACK },
  { name: 'encoded slash prefix', input: '/%2F/evil.example', want: FALLBACK },
  { name: 'encoded slashes lower case', input: '/%2f%2fevil.example', want: FALLBACK },
  { name: 'encoded backslash prefix', input: '/%5Cevil.example', want: FALLBACK },
  { name: 'encoded dots into //', input: '/%2e%2e//evil.example', want: FALLBACK },
  { name: 'encoded slash after dot-dot', input: 'https://evil.example/%2f..', want: FALLBACK },
  { name: 'double-encoded slashes', input: '/%252F%252Fevil.example', want: FALLBACK },
  { name: 'triple-encoded slashes', input: '/%25252F%25252Fevil.example', want: FALLBACK },
  { name: 'double-encoded dots into //', input: '/%252e%252e//evil.example', want: FALLBACK },
  { name: 'too deeply encoded', input: '/a%25252525252541', want: FALLBACK },
  { name: 'encoded tab prefix', input: '/%09/evil.example', want: FALLBACK },
  { name: 'invalid percent-encoding', input: '/%ZZ', want: FALLBACK },
  { name: 'trailing percent', input: '/a%', want: FALLBACK },
  { name: 'invalid UTF-8', input: '/%C0%AE%C0%AE//evil.example', want: FALLBACK },
  { name: 'double-encoded invalid UTF-8', input: '/%25C0%25AE', want: FALLBACK },
  // Unicode look-alikes
  { name: 'division slash', input: '/∕∕evil.example', want: FALLBACK },
  { name: 'fullwidth solidus', input: '/／evil.example', want: FALLBACK },
  { name: 'fullwidth reverse solidus', input: '/＼evil.example', want: FALLBACK },
  { name: 'fraction slash', input: '/⁄⁄evil.example', want: FALLBACK },
  { name: 'zero-width space', input: '/\u200B//evil.example', want: FALLBACK },
  { name: 'encoded zero-width space', input: '/%E2%80%8B//evil.example', want: FALLBACK },
  { name: 'encoded division slash', input: '/%E2%88%95%E2%88%95evil.example', want: FALLBACK },
  { name: 'BOM', input: '\uFEFF/a', want: FALLBACK },
  { name: 'right-to-left override', input: '/a\u202Eb', want: FALLBACK },
  { name: 'circled letters host', input: 'https://ⓔⓥⓘⓛ.example', want: FALLBACK },
  { name: 'ideographic full stop', input: '/a。b', want: FALLBACK },
];

for (const { name, input, want } of cases) {
  test(`sanitizeRedirect: ${name}`, () => {
    assert.equal(sanitizeRedirect(input, FALLBACK), want);
  });
}

test('sanitizeRedirect: every kept result is a fixed point and stays on the origin', () => {
  for (const { input, want } of cases) {
    if (want === FALLBACK) continue;
    assert.equal(sanitizeRedirect(want, 'FALLBACK'), want, `not a fixed point: ${JSON.stringify(input)}`);
    assert.ok(resolvesToOrigin(want, INGRESS), `leaves the origin: ${JSON.stringify(input)}`);
  }
});

test('sanitizeRedirect: the fallback is returned unchanged', () => {
  assert.equal(sanitizeRedirect('//evil.example', 'not even a path'), 'not even a path');
});

test('sanitizeRedirect: open-redirect corpus stays on the ingress origin', () => {
  const corpus = JSON.parse(readFileSync(new URL('../../test/fixtures/open-redirects.json', import.meta.url), 'utf8')) as { payloads: string[] };
  assert.ok(corpus.payloads.length > 0);
  for (const payload of corpus.payloads) {
    const label = JSON.stringify(payload);
    const result = sanitizeRedirect(payload, '/');
    assert.ok(resolvesToOrigin(result, INGRESS), `${label} → ${result} leaves the origin`);
    assert.doesNotMatch(result, /[\u0000-\u001F\u007F-\u009F]/, `${label} → control character`);
    assert.match(result, /^\/(?![/\\])/, `${label} → ${result} does not start with a single /`);
    assert.equal(sanitizeRedirect(result, 'FALLBACK'), result, `${label} → ${result} is not a fixed point`);
  }
});

test('sameOriginRefererPath: keeps path and query inside the ingress', () => {
  const ingress = new URL('https://example.com/app');
  assert.equal(sameOriginRefererPath('https://example.com/app/page?x=1#frag', ingress), '/app/page?x=1');
  assert.equal(sameOriginRefererPath('https://example.com/app', ingress), '/app');
  assert.equal(sameOriginRefererPath('https://EXAMPLE.com:443/app/x', ingress), '/app/x');
  assert.equal(sameOriginRefererPath('https://example.com/x', new URL('https://example.com/')), '/x');
});

test('sameOriginRefererPath: refuses foreign, outside, unsafe and own endpoints', () => {
  const ingress = new URL('https://example.com/app');
  for (const referer of [
    null,
    '',
    'not a url',
    'http://example.com/app/x',
    'https://example.com:8443/app/x',
    'https://evil.example/app/x',
    'https://user:pass@example.com/app/x',
    'https://example.com/application',
    'https://example.com/other',
    'https://example.com/app/../other',
    'https://example.com/app/oauth2/login?redirect=/x',
    'https://example.com/app/oauth2',
    'https://example.com/app/%0d%0a',
  ]) {
    assert.equal(sameOriginRefererPath(referer, ingress), null, String(referer));
  }
});

test('resolvesToOrigin', () => {
  assert.equal(resolvesToOrigin('/a', INGRESS), true);
  assert.equal(resolvesToOrigin('//evil.example/a', INGRESS), false);
  assert.equal(resolvesToOrigin('/\\evil.example', INGRESS), false);
  assert.equal(resolvesToOrigin('https://evil.example', INGRESS), false);
  assert.equal(resolvesToOrigin('http://[', INGRESS), false);
});
