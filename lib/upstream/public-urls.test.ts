import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { namesUpstream, refreshToPublic, toPublicUrl, type UrlMapping } from './public-urls';

const ingress = new URL('https://app.example');
const route = (prefix: string, target: string) => ({ prefix, target: new URL(target) });
const api: UrlMapping = { ingress, routes: [route('/api', 'http://10.0.0.5:8080')] };
const based: UrlMapping = { ingress: new URL('https://app.example/app'), routes: [route('/api', 'http://10.0.0.5:8080/base')] };
const sidecar: UrlMapping = { ingress, routes: [route('/', 'http://127.0.0.1:8080/')] };
const two: UrlMapping = { ingress, routes: [route('/api', 'http://10.0.0.5:8080'), route('/admin', 'http://10.0.0.9:9000/v2')] };

describe('toPublicUrl (Location, Content-Location)', () => {
  const cases: { name: string; m: UrlMapping; input: string; want: string }[] = [
    { name: 'absolute on the upstream', m: api, input: 'http://10.0.0.5:8080/x?y=1#z', want: 'https://app.example/api/x?y=1#z' },
    { name: 'upper-case scheme and host', m: api, input: 'HTTP://10.0.0.5:8080/x', want: 'https://app.example/api/x' },
    { name: 'the other scheme, same host and port', m: api, input: 'https://10.0.0.5:8080/x', want: 'https://app.example/api/x' },
    { name: 'scheme-relative', m: api, input: '//10.0.0.5:8080/x', want: 'https://app.example/api/x' },
    { name: 'backslashes', m: api, input: 'http:\\\\10.0.0.5:8080\\x', want: 'https://app.example/api/x' },
    { name: 'slash-backslash', m: api, input: '/\\10.0.0.5:8080/x', want: 'https://app.example/api/x' },
    { name: 'userinfo dropped', m: api, input: 'http://u:p@10.0.0.5:8080/x', want: 'https://app.example/api/x' },
    { name: 'the upstream root', m: api, input: 'http://10.0.0.5:8080', want: 'https://app.example/api/' },
    { name: 'target path mapped back', m: based, input: 'http://10.0.0.5:8080/base/users', want: 'https://app.example/app/api/users' },
    { name: 'outside the target path: kept on the ingress', m: based, input: 'http://10.0.0.5:8080/other', want: 'https://app.example/app/other' },
    { name: 'sidecar', m: sidecar, input: 'http://127.0.0.1:8080/dashboard', want: 'https://app.example/dashboard' },
    { name: 'sidecar app says localhost', m: sidecar, input: 'http://localhost:8080/dashboard', want: 'https://app.example/dashboard' },
    { name: 'sidecar app says [::1]', m: sidecar, input: 'http://[::1]:8080/d', want: 'https://app.example/d' },
    { name: 'sidecar app says localhost.', m: sidecar, input: 'http://localhost.:8080/d', want: 'https://app.example/d' },
    { name: 'sidecar app says foo.localhost', m: sidecar, input: 'http://foo.localhost:8080/d', want: 'https://app.example/d' },
    { name: 'sidecar app says [::ffff:127.0.0.1]', m: sidecar, input: 'http://[::ffff:127.0.0.1]:8080/d', want: 'https://app.example/d' },
    { name: 'sidecar app says 0.0.0.0', m: sidecar, input: 'http://0.0.0.0:8080/d', want: 'https://app.example/d' },
    { name: 'a trailing dot on a named host', m: { ingress, routes: [route('/api', 'http://api:8080')] }, input: 'http://api.:8080/x', want: 'https://app.example/api/x' },
    { name: 'another route\'s upstream', m: two, input: 'http://10.0.0.9:9000/v2/users', want: 'https://app.example/admin/users' },
    { name: 'default port spelled out', m: { ingress, routes: [route('/', 'http://upstream/')] }, input: 'http://upstream:80/x', want: 'https://app.example/x' },
    { name: 'relative path untouched', m: api, input: '/somewhere', want: '/somewhere' },
    { name: 'relative without slash untouched', m: api, input: 'next?page=2', want: 'next?page=2' },
    { name: 'foreign absolute untouched', m: api, input: 'https://example.com/x', want: 'https://example.com/x' },
    { name: 'same host, other port untouched', m: api, input: 'http://10.0.0.5:9999/x', want: 'http://10.0.0.5:9999/x' },
    { name: 'already public untouched', m: api, input: 'https://app.example/api/x', want: 'https://app.example/api/x' },
    { name: 'unparsable untouched', m: api, input: 'http://[::1', want: 'http://[::1' },
  ];
  for (const c of cases) test(c.name, () => assert.equal(toPublicUrl(c.input, c.m), c.want));
});

describe('refreshToPublic', () => {
  const cases: [string, string | null][] = [
    ['0; url=http://10.0.0.5:8080/x', '0; url=https://app.example/api/x'],
    ["5;URL='http://10.0.0.5:8080/x'", '5; url=https://app.example/api/x'],
    ['3, http://10.0.0.5:8080/x', '3; url=https://app.example/api/x'],
    ['1.5 ; Url = "http://10.0.0.5:8080/x"', '1.5; url=https://app.example/api/x'],
    // HTML ends a quoted URL at its quote, whatever follows: the upstream's origin is what a browser opens.
    ["0;url='http://10.0.0.5:8080'x", '0; url=https://app.example/api/'],
    ['0;url="http://10.0.0.5:8080"#', '0; url=https://app.example/api/'],
    ['0; url=/relative', '0; url=/relative'],
    ['5', '5'],
    ['0; url=https://example.com/', '0; url=https://example.com/'],
    ['not a refresh', null],
    ["0; url='http://[::1'", null],
  ];
  for (const [input, want] of cases) test(input, () => assert.equal(refreshToPublic(input, api), want));
});

describe('namesUpstream (the last check before a URL header goes out)', () => {
  const cases: [string, boolean][] = [
    ['/a, http://u@127.0.0.1:8080/b', true],
    ['/a, http://localhost:8080/b', true],
    ['/a, http://127.0.0.1:08080/b', true],
    ['5, 0; url=http://localhost:8080/x', true],
    ["0; url='//127.0.0.1:8080/x'", true],
    ['https://app.example/x', false],
    ['/a, /b', false],
    ['https://example.com/a, 5', false],
  ];
  for (const [value, want] of cases) test(value, () => assert.equal(namesUpstream(value, sidecar), want));
});
