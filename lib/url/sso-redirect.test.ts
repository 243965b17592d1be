import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sanitizeRedirect, ssoRedirect } from './redirect';

describe('ssoRedirect (SPEC §8)', () => {
  const allowed: [string, string][] = [
    ['https://example.com/', 'https://example.com/'],
    ['https://example.com', 'https://example.com/'],
    ['https://app.example.com/path?x=1#frag', 'https://app.example.com/path?x=1#frag'],
    ['https://a.b.example.com/', 'https://a.b.example.com/'],
    ['HTTPS://APP.EXAMPLE.COM/Case', 'https://app.example.com/Case'],
    ['https://app.example.com:8443/x', 'https://app.example.com:8443/x'],
    ['https://app.example.com:443/x', 'https://app.example.com/x'],
    ['https://app.example.com/a/../b', 'https://app.example.com/b'],
  ];
  for (const [input, expected] of allowed) {
    it(`keeps ${input}`, () => assert.equal(ssoRedirect(input, 'example.com', false), expected));
  }

  const refused = [
    'https://example.com.evil.net/',
    'https://evilexample.com/',
    'https://evil.net/?example.com',
    'https://evil.net/.example.com',
    '//example.com/',
    '//example.com@evil.net/',
    'https://example.com@evil.net/',
    'https://user:pass@app.example.com/',
    'https://evil.net:443@example.com/',
    'https://evil.net%2F@example.com/',
    'https://example.com:evil.net/',
    'https:example.com/',
    'https:/example.com/',
    'javascript://example.com/%0aalert(1)',
    'ftp://example.com/',
    'http://example.com/', // http not allowed here
    '/relative/path',
    'https://app.example.com//evil.net',
    'https://app.example.com/%2F%2Fevil.net',
    'https://app.example.com/\\evil.net',
    ' https://app.example.com/',
    'https://app.example.com/\r\nSet-Cookie: x=1',
    'https://app.example.com\u3002evil.net/',
    'https://examp\u200Ble.com/',
    'https://example.com./',
    'https://xn--exmple-cua.com/',
    '',
    `https://app.example.com/${'a'.repeat(3000)}`,
  ];
  for (const input of refused) {
    it(`refuses ${JSON.stringify(input.slice(0, 60))}`, () => assert.equal(ssoRedirect(input, 'example.com', false), null));
  }

  it('accepts http only when allowed', () => {
    assert.equal(ssoRedirect('http://app.example.com/x', 'example.com', true), 'http://app.example.com/x');
    assert.equal(ssoRedirect('http://app.example.com/x', 'example.com', false), null);
  });

  it('a domain that is a single label only matches itself and its subdomains', () => {
    assert.equal(ssoRedirect('http://localhost:3000/x', 'localhost', true), 'http://localhost:3000/x');
    assert.equal(ssoRedirect('http://app.localhost:3000/x', 'localhost', true), 'http://app.localhost:3000/x');
    assert.equal(ssoRedirect('http://evillocalhost:3000/x', 'localhost', true), null);
  });

  it('is a fixed point', () => {
    for (const [input] of allowed) {
      const once = ssoRedirect(input, 'example.com', false)!;
      assert.equal(ssoRedirect(once, 'example.com', false), once);
    }
  });

  it('leaves sanitizeRedirect strict: absolute URLs on the domain still lose their host there', () => {
    assert.equal(sanitizeRedirect('https://app.example.com/x', '/'), '/x');
  });
});
