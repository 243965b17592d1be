import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readRequestPath, type RequestPath } from './request-path';

const cases: { name: string; input: string; want: RequestPath | null }[] = [
  { name: 'root', input: '/', want: { raw: '/', decoded: '/' } },
  { name: 'plain', input: '/a/b', want: { raw: '/a/b', decoded: '/a/b' } },
  { name: 'trailing slash kept raw, dropped decoded', input: '/a/b/', want: { raw: '/a/b/', decoded: '/a/b' } },
  { name: 'dot segment', input: '/a/./b', want: { raw: '/a/b', decoded: '/a/b' } },
  { name: 'dot-dot segment', input: '/a/b/../c', want: { raw: '/a/c', decoded: '/a/c' } },
  { name: 'dot-dot at the end', input: '/a/b/..', want: { raw: '/a/', decoded: '/a' } },
  { name: 'dot-dot above root', input: '/../../etc/passwd', want: { raw: '/etc/passwd', decoded: '/etc/passwd' } },
  { name: 'only dot-dot', input: '/..', want: { raw: '/', decoded: '/' } },
  { name: 'double slashes collapsed', input: '//a///b', want: { raw: '/a/b', decoded: '/a/b' } },
  { name: 'double slash then dot-dot', input: '/a//../b', want: { raw: '/b', decoded: '/b' } },
  { name: 'space kept raw, decoded once', input: '/a%20b', want: { raw: '/a%20b', decoded: '/a b' } },
  { name: 'UTF-8 kept raw, decoded once', input: '/s%C3%B8k', want: { raw: '/s%C3%B8k', decoded: '/søk' } },
  { name: 'encoded letter', input: '/%61pi/x', want: { raw: '/%61pi/x', decoded: '/api/x' } },
  { name: 'encoded percent decoded only once', input: '/a%2520b', want: { raw: '/a%2520b', decoded: '/a%20b' } },
  { name: 'encoded question mark stays in the path', input: '/a%3Fb', want: { raw: '/a%3Fb', decoded: '/a?b' } },
  { name: 'semicolon in a segment', input: '/a;v=1/b', want: { raw: '/a;v=1/b', decoded: '/a;v=1/b' } },
  { name: 'dots inside a segment are not dot segments', input: '/a/..b/c.', want: { raw: '/a/..b/c.', decoded: '/a/..b/c.' } },
  // Refused: paths that read one way encoded and another way decoded, or cannot be read at all.
  { name: 'encoded dot-dot', input: '/api/%2e%2e/x', want: null },
  { name: 'encoded dot-dot upper case', input: '/api/%2E%2E/x', want: null },
  { name: 'half-encoded dot-dot', input: '/api/.%2e/x', want: null },
  { name: 'encoded dot', input: '/a/%2e/b', want: null },
  { name: 'encoded slashes around dot-dot', input: '/a%2F..%2Fb', want: null },
  { name: 'encoded slash', input: '/a%2Fb', want: null },
  { name: 'encoded backslash', input: '/a%5Cb', want: null },
  { name: 'encoded backslashes around dot-dot', input: '/a%5C..%5Cb', want: null },
  { name: 'double-encoded dot-dot', input: '/a/%252e%252e/b', want: null },
  { name: 'invalid UTF-8 (overlong dot)', input: '/%C0%AE', want: null },
  { name: 'invalid UTF-8 (lone continuation byte)', input: '/%80', want: null },
  { name: 'NUL', input: '/%00', want: null },
  { name: 'encoded CR LF', input: '/a%0D%0Ab', want: null },
  { name: 'invalid escape', input: '/%ZZ', want: null },
  { name: 'truncated escape', input: '/a%2', want: null },
  { name: 'backslash', input: '/a\\b', want: null },
  { name: 'leading backslash', input: '/\\evil.example', want: null },
  { name: 'Tomcat path parameter dot-dot', input: '/public/..;/secret', want: null },
  { name: 'not starting with /', input: 'a/b', want: null },
  { name: 'absolute URL', input: 'http://evil.example/a', want: null },
  { name: 'asterisk form', input: '*', want: null },
  { name: 'empty', input: '', want: null },
];

describe('readRequestPath', () => {
  for (const { name, input, want } of cases) {
    test(name, () => {
      assert.deepEqual(readRequestPath(input), want);
    });
  }

  test('reading is stable: the raw form reads to itself', () => {
    for (const { input, want } of cases) {
      if (!want) continue;
      assert.deepEqual(readRequestPath(want.raw), want, input);
    }
  });

  test('whatever is accepted has the same segments raw and decoded (decoding adds no structure)', () => {
    for (const { input } of cases) {
      const got = readRequestPath(input);
      if (!got) continue;
      const rawSegments = got.raw.split('/').filter(Boolean).length;
      const decodedSegments = got.decoded.split('/').filter(Boolean).length;
      assert.equal(rawSegments, decodedSegments, `${input} → ${JSON.stringify(got)}`);
    }
  });
});
