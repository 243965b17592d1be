import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import { headerValue, identityHeaders, type IdentitySource } from './identity-headers';
import { upstreamRequestHeaders, type UpstreamRequestOptions } from './plan';

const alice: IdentitySource = {
  sub: 'alice',
  claims: { email: 'alice@example.com', email_verified: true, preferred_username: 'alice', groups: ['admins', 'ops'] },
  groupsClaim: 'groups',
};

/** Every character a header value may carry unencoded: printable ASCII, inner spaces. */
const SAFE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;

describe('headerValue', () => {
  const cases: Array<{ name: string; input: string; also?: string; want: string }> = [
    { name: 'plain ASCII unchanged', input: 'alice@example.com', want: 'alice@example.com' },
    { name: 'inner spaces kept', input: 'Domain Users', want: 'Domain Users' },
    { name: 'spaces at the ends encoded (HTTP would trim them)', input: ' a ', want: '%20a%20' },
    { name: 'CR LF encoded: no header splitting', input: 'a\r\nX-Admin: 1', want: 'a%0D%0AX-Admin: 1' },
    { name: 'NUL, tab, DEL encoded', input: 'a\u0000b\tc\u007f', want: 'a%00b%09c%7F' },
    { name: 'C1 control (U+0085) encoded as UTF-8', input: 'a\u0085', want: 'a%C2%85' },
    { name: 'non-ASCII as percent-encoded UTF-8', input: 'José', want: 'Jos%C3%A9' },
    { name: 'astral character', input: '😀', want: '%F0%9F%98%80' },
    { name: 'lone surrogate becomes U+FFFD', input: 'a\ud800', want: 'a%EF%BF%BD' },
    { name: '% itself encoded, so decoding is exact', input: '100%', want: '100%25' },
    { name: 'an already encoded-looking value survives a round trip', input: '%41', want: '%2541' },
    { name: 'comma kept unless asked', input: 'a,b', want: 'a,b' },
    { name: 'comma encoded for a group name', input: 'a,b', also: ',', want: 'a%2Cb' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const got = headerValue(c.input, c.also);
      assert.equal(got, c.want);
      assert.match(got, SAFE);
      assert.equal(decodeURIComponent(got), c.input.replace('\ud800', '\ufffd'));
    });
  }
});

describe('identityHeaders', () => {
  test('all four from the claims', () => {
    assert.deepEqual(identityHeaders(alice), {
      'x-auth-request-user': 'alice',
      'x-auth-request-email': 'alice@example.com',
      'x-auth-request-preferred-username': 'alice',
      'x-auth-request-groups': 'admins,ops',
    });
  });
  test('several providers: the provider id too, since a sub is unique only per issuer', () => {
    const corp = identityHeaders({ ...alice, provider: 'corp' });
    const partner = identityHeaders({ ...alice, provider: 'partner' });
    assert.equal(corp['x-auth-request-user'], partner['x-auth-request-user'], 'the same sub at two IdPs');
    assert.equal(corp['x-auth-request-provider'], 'corp');
    assert.equal(partner['x-auth-request-provider'], 'partner');
  });
  test('one provider: no provider header (the session records none)', () => {
    assert.equal('x-auth-request-provider' in identityHeaders(alice), false);
  });
  test('a claim the session lacks sends no header', () => {
    assert.deepEqual(identityHeaders({ sub: 'bob', claims: {}, groupsClaim: 'groups' }), { 'x-auth-request-user': 'bob' });
  });
  test('an unverified email is not sent', () => {
    for (const email_verified of [false, 'false']) {
      assert.equal(identityHeaders({ ...alice, claims: { ...alice.claims, email_verified } })['x-auth-request-email'], undefined);
    }
  });
  test('an email without email_verified is sent', () => {
    assert.equal(identityHeaders({ ...alice, claims: { email: 'a@b.c' } })['x-auth-request-email'], 'a@b.c');
  });
  test('non-string claims send nothing', () => {
    const got = identityHeaders({ sub: 'x', claims: { email: 5, preferred_username: { a: 1 }, groups: 'not-a-list-but-one' }, groupsClaim: 'groups' });
    assert.deepEqual(got, { 'x-auth-request-user': 'x', 'x-auth-request-groups': 'not-a-list-but-one' });
  });
  test('groups: comma inside a name is %2C, so split-then-decode is exact', () => {
    const groups = ['Sales, EMEA', 'R&D', 'Ünits', 'plain'];
    const value = identityHeaders({ sub: 'x', claims: { groups }, groupsClaim: 'groups' })['x-auth-request-groups'];
    assert.equal(value, 'Sales%2C EMEA,R&D,%C3%9Cnits,plain');
    assert.deepEqual(value.split(',').map(decodeURIComponent), groups);
  });
  test('groups from a nested claim (GROUPS_CLAIM=realm_access.roles)', () => {
    const got = identityHeaders({ sub: 'x', claims: { realm_access: { roles: ['a', 'b'] } }, groupsClaim: 'realm_access.roles' });
    assert.equal(got['x-auth-request-groups'], 'a,b');
  });
  test('hostile values never carry control characters', () => {
    const evil = 'x\r\nSet-Cookie: a=b\u0000\u2028';
    const got = identityHeaders({ sub: evil, claims: { email: `${evil}@example.com`, preferred_username: evil, groups: [evil] }, groupsClaim: 'groups' });
    for (const [name, value] of Object.entries(got)) assert.match(value, SAFE, name);
  });
});

describe('upstreamRequestHeaders: identity headers', () => {
  const options = (over: Partial<UpstreamRequestOptions> = {}): UpstreamRequestOptions => ({
    accessToken: 'at',
    cookiePrefix: 'gatehouse',
    requestId: 'rid',
    ingress: new URL('https://app.example'),
    remoteAddress: '127.0.0.1',
    target: new URL('http://api:8080'),
    ...over,
  });
  /** Node lowercases names; `_` and mixed `-`/`_` forms stay as sent. */
  const forged: IncomingHttpHeaders = {
    host: 'app.example',
    'x-auth-request-user': 'admin',
    'x-auth-request-email': 'root@example.com',
    x_auth_request_user: 'admin',
    'x-auth-request_preferred_username': 'admin',
    'x_auth-request-groups': 'admins',
    'x-auth-request-access-token': 'forged',
    'x-auth-request-anything': 'x',
    'x-auth-request-provider': 'corp',
  };

  test('off: every client-sent X-Auth-Request-* (any spelling) removed, none added', () => {
    const out = upstreamRequestHeaders(forged, options());
    for (const name of Object.keys(out)) assert.doesNotMatch(name.replaceAll('_', '-'), /^x-auth-request-/, name);
  });
  test('on: exactly the session\'s four, the client\'s gone', () => {
    const out = upstreamRequestHeaders(forged, options({ identity: alice }));
    const identity = Object.fromEntries(Object.entries(out).filter(([n]) => /^x[-_]auth[-_]request[-_]/i.test(n)));
    assert.deepEqual(identity, {
      'x-auth-request-user': 'alice',
      'x-auth-request-email': 'alice@example.com',
      'x-auth-request-preferred-username': 'alice',
      'x-auth-request-groups': 'admins,ops',
    });
  });
  test('on, several providers: a forged provider is replaced by the session\'s', () => {
    const out = upstreamRequestHeaders(forged, options({ identity: { ...alice, provider: 'partner' } }));
    assert.equal(out['x-auth-request-provider'], 'partner');
  });
  test('on, no session: none', () => {
    const out = upstreamRequestHeaders(forged, options({ accessToken: null, identity: null }));
    assert.equal(Object.keys(out).some((n) => /^x[-_]auth[-_]request[-_]/i.test(n)), false);
  });
});
