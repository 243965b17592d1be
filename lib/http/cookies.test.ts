import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cookieNames, expireCookie, firstCookies, foreignCookieHeader, isOwnCookie, overriddenBy, parseCookies, serializeCookie, type CookieScope } from './cookies';

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

describe('serializeCookie', () => {
  const secureRoot: CookieScope = { prefix: 'gatehouse', path: '/', secure: true };
  const plainApp: CookieScope = { prefix: 'gatehouse', path: '/app', secure: false };
  const cases: { name: string; input: [string, string, CookieScope, number?]; want: string }[] = [
    { name: 'secure, with Max-Age', input: ['gatehouse.session', 'v', secureRoot, 3600], want: 'gatehouse.session=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=3600' },
    { name: 'not secure on loopback http', input: ['gatehouse.session', 'v', plainApp, 60], want: 'gatehouse.session=v; Path=/app; HttpOnly; SameSite=Lax; Max-Age=60' },
    { name: 'browser-session cookie without Max-Age', input: ['gatehouse.logout', 'v', secureRoot], want: 'gatehouse.logout=v; Path=/; HttpOnly; SameSite=Lax; Secure' },
    { name: 'fractional Max-Age rounds down', input: ['a', 'v', secureRoot, 59.9], want: 'a=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=59' },
    { name: 'negative Max-Age is 0', input: ['a', 'v', secureRoot, -5], want: 'a=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0' },
  ];
  for (const { name, input, want } of cases) {
    test(name, () => {
      assert.equal(serializeCookie(...input), want);
    });
  }

  test('expireCookie clears the value with Max-Age=0 and a past Expires, same scope', () => {
    assert.equal(
      expireCookie('gatehouse.session.2', plainApp),
      'gatehouse.session.2=; Path=/app; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
    );
    assert.match(expireCookie('x', secureRoot), /; Secure; /);
  });

  test('round trip through parseCookies', () => {
    const header = serializeCookie('gatehouse.session', 'Fe26.2*1*a*b~2', secureRoot, 10);
    assert.equal(parseCookies(header.split('; ')[0]).get('gatehouse.session'), 'Fe26.2*1*a*b~2');
  });
});

describe('overriddenBy', () => {
  test('keeps one Set-Cookie per name, the later one', () => {
    const earlier = ['gatehouse.session=; Max-Age=0', 'gatehouse.session.1=; Max-Age=0', 'other=1'];
    const later = ['gatehouse.session=new; Path=/'];
    assert.deepEqual(overriddenBy(earlier, later), ['gatehouse.session.1=; Max-Age=0', 'other=1', 'gatehouse.session=new; Path=/']);
  });
});
