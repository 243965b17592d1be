import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  cookie,
  cookieNames,
  expired,
  firstCookies,
  foreignCookieHeader,
  isOwnCookie,
  overriddenBy,
  parseCookies,
  serializeSetCookie,
  sessionCookieScope,
  setCookieHeaders,
  type CookieScope,
  type SetCookie,
} from './cookies';

describe('cookieNames', () => {
  test('names under the prefix', () => {
    const names = cookieNames('gatehouse');
    assert.equal(names.session, 'gatehouse.session');
    assert.equal(names.sessionChunk(3), 'gatehouse.session.3');
    assert.equal(names.login('abc'), 'gatehouse.login.abc');
    assert.equal(names.loginPrefix, 'gatehouse.login.');
    assert.equal(names.logout, 'gatehouse.logout');
    assert.equal(cookieNames('gh').session, 'gh.session');
  });

  const own: { name: string; input: string; want: boolean }[] = [
    { name: 'session', input: 'gatehouse.session', want: true },
    { name: 'session chunk', input: 'gatehouse.session.7', want: true },
    { name: 'login attempt', input: 'gatehouse.login.abc', want: true },
    { name: 'logout', input: 'gatehouse.logout', want: true },
    { name: 'the bare prefix is not ours', input: 'gatehouse', want: false },
    { name: 'a longer word is not ours', input: 'gatehouses', want: false },
    { name: 'another app', input: 'session', want: false },
    { name: 'different case is another cookie', input: 'Gatehouse.session', want: false },
  ];
  for (const { name, input, want } of own) {
    test(`isOwnCookie: ${name}`, () => {
      assert.equal(isOwnCookie('gatehouse', input), want);
    });
  }
});

describe('firstCookies', () => {
  test('keeps the first n cookies, whole', () => {
    assert.equal(firstCookies('a=1; b=2; c=3', 2), 'a=1; b=2');
    assert.equal(firstCookies('a=1; b=2', 2), 'a=1; b=2');
    assert.equal(firstCookies('a=1', 5), 'a=1');
    assert.equal(firstCookies(';'.repeat(12_000), 180), ';'.repeat(179));
  });
});

describe('parseCookies', () => {
  const cases: { name: string; input: string | null | undefined; want: [string, string][] }[] = [
    { name: 'null', input: null, want: [] },
    { name: 'undefined', input: undefined, want: [] },
    { name: 'empty', input: '', want: [] },
    { name: 'one', input: 'a=1', want: [['a', '1']] },
    { name: 'several, spaces trimmed', input: 'a=1;  b = 2 ;c=3', want: [['a', '1'], ['b', '2'], ['c', '3']] },
    { name: 'first occurrence wins', input: 'a=first; b=x; a=second', want: [['a', 'first'], ['b', 'x']] },
    { name: 'value may contain =', input: 'a=x=y==', want: [['a', 'x=y==']] },
    { name: 'empty value', input: 'a=; b=2', want: [['a', ''], ['b', '2']] },
    { name: 'quoted value kept as sent', input: 'a="q v"', want: [['a', '"q v"']] },
    { name: 'junk without = ignored', input: 'junk; a=1; more junk', want: [['a', '1']] },
    { name: 'empty name ignored', input: '=x; a=1; =', want: [['a', '1']] },
    { name: 'stray separators ignored', input: ';;a=1;; ;b=2;', want: [['a', '1'], ['b', '2']] },
    { name: 'iron seals survive', input: 'gatehouse.session=Fe26.2*1*abc*def~2', want: [['gatehouse.session', 'Fe26.2*1*abc*def~2']] },
  ];
  for (const { name, input, want } of cases) {
    test(name, () => {
      assert.deepEqual([...parseCookies(input)], want);
    });
  }

  test('caps how many cookies are read', () => {
    const header = Array.from({ length: 5_000 }, (_, i) => `c${i}=${i}`).join('; ');
    const cookies = parseCookies(header);
    assert.ok(cookies.size > 0 && cookies.size <= 200, `${cookies.size} cookies`);
    assert.equal(cookies.get('c0'), '0');
    assert.equal(cookies.has('c4999'), false);
  });
});

describe('foreignCookieHeader', () => {
  const cases: { name: string; input: string | undefined; prefix?: string; want: string | undefined }[] = [
    { name: 'no header', input: undefined, want: undefined },
    { name: 'empty header', input: '', want: undefined },
    { name: 'only foreign', input: 'a=1; b=2', want: 'a=1; b=2' },
    {
      name: 'own removed, others kept in order',
      input: 'gatehouse.session=S; theme=dark; gatehouse.session.3=C; gatehouse.login.abc=L; a=1; gatehouse.logout=O',
      want: 'theme=dark; a=1',
    },
    { name: 'only own: nothing left', input: 'gatehouse.session=S; gatehouse.session.1=T', want: undefined },
    { name: 'look-alikes kept', input: 'gatehouse=1; gatehouses.session=2; xgatehouse.session=3', want: 'gatehouse=1; gatehouses.session=2; xgatehouse.session=3' },
    { name: 'own cookie without a value removed', input: 'gatehouse.session; a=1', want: 'a=1' },
    { name: 'spaces around names', input: ' gatehouse.session =S ;  a=1 ', want: 'a=1' },
    { name: 'empty parts dropped', input: ';; a=1;;', want: 'a=1' },
    { name: 'custom prefix', input: 'gh.session=S; gatehouse.session=G', prefix: 'gh', want: 'gatehouse.session=G' },
  ];
  for (const { name, input, prefix, want } of cases) {
    test(name, () => {
      assert.equal(foreignCookieHeader(input, prefix ?? 'gatehouse'), want);
    });
  }
});

describe('Set-Cookie values', () => {
  const secureRoot: CookieScope = { prefix: 'gatehouse', path: '/', secure: true };
  const plainApp: CookieScope = { prefix: 'gatehouse', path: '/app', secure: false };
  const ssoServer: CookieScope = { prefix: 'gatehouse', path: '/app', secure: true, sessionName: 'example.sso', sessionDomain: 'example.com' };

  // The exact bytes a browser gets: attribute order and spelling are pinned here.
  const wire: { name: string; input: SetCookie; want: string }[] = [
    { name: 'plain', input: { name: 'a', value: 'v', path: '/app', secure: false }, want: 'a=v; Path=/app; HttpOnly; SameSite=Lax' },
    { name: 'with domain', input: { name: 'example.sso', value: 'v', path: '/', domain: 'example.com', secure: false }, want: 'example.sso=v; Path=/; HttpOnly; SameSite=Lax; Domain=example.com' },
    { name: 'secure', input: { name: 'a', value: 'v', path: '/', secure: true }, want: 'a=v; Path=/; HttpOnly; SameSite=Lax; Secure' },
    { name: 'max-age', input: { name: 'a', value: 'v', path: '/', secure: false, maxAge: 3600 }, want: 'a=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600' },
    {
      name: 'domain, secure and max-age together',
      input: { name: 'example.sso', value: 'Fe26.2*1*a*b~2', path: '/', domain: 'example.com', secure: true, maxAge: 60 },
      want: 'example.sso=Fe26.2*1*a*b~2; Path=/; HttpOnly; SameSite=Lax; Domain=example.com; Secure; Max-Age=60',
    },
    {
      name: 'expired',
      input: { name: 'gatehouse.session.2', value: '', path: '/app', secure: true, maxAge: 0 },
      want: 'gatehouse.session.2=; Path=/app; HttpOnly; SameSite=Lax; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    },
  ];
  for (const { name, input, want } of wire) {
    test(`serializeSetCookie: ${name}`, () => {
      assert.equal(serializeSetCookie(input), want);
    });
  }

  const made: { name: string; input: SetCookie; want: string }[] = [
    { name: 'secure, with Max-Age', input: cookie('gatehouse.session', 'v', secureRoot, 3600), want: 'gatehouse.session=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=3600' },
    { name: 'not secure on loopback http', input: cookie('gatehouse.session', 'v', plainApp, 60), want: 'gatehouse.session=v; Path=/app; HttpOnly; SameSite=Lax; Max-Age=60' },
    { name: 'browser-session cookie without Max-Age', input: cookie('gatehouse.logout', 'v', secureRoot), want: 'gatehouse.logout=v; Path=/; HttpOnly; SameSite=Lax; Secure' },
    { name: 'fractional Max-Age rounds down', input: cookie('a', 'v', secureRoot, 59.9), want: 'a=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=59' },
    { name: 'negative Max-Age is 0', input: cookie('a', 'v', secureRoot, -5), want: 'a=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0' },
    {
      name: 'the SSO server\'s session cookie: its domain and /',
      input: cookie('example.sso', 'v', sessionCookieScope(ssoServer), 60),
      want: 'example.sso=v; Path=/; HttpOnly; SameSite=Lax; Domain=example.com; Secure; Max-Age=60',
    },
    {
      name: 'expired: empty, Max-Age=0 and a past Expires, same scope',
      input: expired('gatehouse.session.2', plainApp),
      want: 'gatehouse.session.2=; Path=/app; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    },
  ];
  for (const { name, input, want } of made) {
    test(`cookie()/expired(): ${name}`, () => {
      assert.equal(serializeSetCookie(input), want);
    });
  }

  test('cookie() and expired() are plain values of the scope', () => {
    assert.deepEqual(cookie('gatehouse.login.abc', 'sealed', plainApp, 3600), { name: 'gatehouse.login.abc', value: 'sealed', path: '/app', secure: false, maxAge: 3600 });
    assert.deepEqual(expired('gatehouse.session', secureRoot), { name: 'gatehouse.session', value: '', path: '/', secure: true, maxAge: 0 });
    // The session cookie's own scope only: a login cookie on an SSO server stays on the ingress path.
    assert.deepEqual(cookie('gatehouse.login.abc', 'v', ssoServer), { name: 'gatehouse.login.abc', value: 'v', path: '/app', secure: true });
  });

  test('setCookieHeaders serialises each, in order', () => {
    assert.deepEqual(setCookieHeaders([cookie('a', '1', plainApp), expired('b', plainApp)]), [
      'a=1; Path=/app; HttpOnly; SameSite=Lax',
      'b=; Path=/app; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    ]);
    assert.deepEqual(setCookieHeaders([]), []);
  });

  test('round trip through parseCookies', () => {
    const header = serializeSetCookie(cookie('gatehouse.session', 'Fe26.2*1*a*b~2', secureRoot, 10));
    assert.equal(parseCookies(header.split('; ')[0]).get('gatehouse.session'), 'Fe26.2*1*a*b~2');
  });
});

describe('overriddenBy', () => {
  test('keeps one Set-Cookie per name, the later one', () => {
    const scope: CookieScope = { prefix: 'gatehouse', path: '/', secure: true };
    const earlier = [expired('gatehouse.session', scope), expired('gatehouse.session.1', scope), cookie('other', '1', scope)];
    const later = [cookie('gatehouse.session', 'new', scope, 60)];
    assert.deepEqual(overriddenBy(earlier, later), [expired('gatehouse.session.1', scope), cookie('other', '1', scope), cookie('gatehouse.session', 'new', scope, 60)]);
  });
});
