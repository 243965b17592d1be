import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accessDenial, claimAt, emailDomain, groupsOf, hasAccessRules, type AccessDenial, type AccessRules } from './access-rules';
import { loadConfig } from './config';

const rules = (over: Partial<AccessRules> = {}): AccessRules => ({ emailDomains: [], groups: [], groupsClaim: 'groups', ...over });
const domain = rules({ emailDomains: ['example.com'] });
const verified = (email: unknown, extra: Record<string, unknown> = {}) => ({ sub: 'u', email, email_verified: true, ...extra });

describe('accessDenial: ALLOWED_EMAIL_DOMAINS', () => {
  const cases: Array<{ name: string; rules?: AccessRules; claims: Record<string, unknown>; want: AccessDenial | null }> = [
    { name: 'exact domain passes', claims: verified('user@example.com'), want: null },
    { name: 'upper-case address passes (domains are case-insensitive)', claims: verified('USER@EXAMPLE.COM'), want: null },
    { name: 'mixed case domain passes', claims: verified('a@Example.Com'), want: null },
    { name: 'suffix after the domain: example.com.evil', claims: verified('user@example.com.evil'), want: 'email_domain' },
    { name: 'the domain inside a longer one: evil.example.com.attacker.net', claims: verified('user@evil.example.com.attacker.net'), want: 'email_domain' },
    { name: 'a name ending like the domain: notexample.com', claims: verified('user@notexample.com'), want: 'email_domain' },
    { name: 'sub-domain does not pass a plain domain', claims: verified('user@sub.example.com'), want: 'email_domain' },
    { name: 'quoted local part holding @: "a@b"@evil.com', claims: verified('"a@b"@evil.com'), want: 'email_domain' },
    { name: 'quoted local part holding the allowed address', claims: verified('"user@example.com"@evil.com'), want: 'email_domain' },
    { name: 'quoted local part, allowed domain after the last @', claims: verified('"x@evil.com"@example.com'), want: null },
    { name: 'two @: the last one counts', claims: verified('user@example.com@evil.com'), want: 'email_domain' },
    { name: 'Kelvin sign K (U+212A) does not fold into k', rules: rules({ emailDomains: ['kexample.com'] }), claims: verified('user@\u212Aexample.com'), want: 'email_missing' },
    { name: 'full-width letters are not ASCII', claims: verified('user@ｅxample.com'), want: 'email_missing' },
    { name: 'trailing dot is another name', claims: verified('user@example.com.'), want: 'email_missing' },
    { name: 'trailing space', claims: verified('user@example.com '), want: 'email_missing' },
    { name: 'CR/LF in the domain', claims: verified('user@example.com\r\n'), want: 'email_missing' },
    { name: 'NUL after the domain', claims: verified('user@example.com\u0000'), want: 'email_missing' },
    { name: 'no local part', claims: verified('@example.com'), want: 'email_missing' },
    { name: 'no @ at all', claims: verified('example.com'), want: 'email_missing' },
    { name: 'empty domain', claims: verified('user@'), want: 'email_missing' },
    { name: 'missing email', claims: { sub: 'u', email_verified: true }, want: 'email_missing' },
    { name: 'email null', claims: verified(null), want: 'email_missing' },
    { name: 'email a number', claims: verified(42), want: 'email_missing' },
    { name: 'email an array', claims: verified(['user@example.com']), want: 'email_missing' },
    { name: 'email an object', claims: verified({ toString: 'user@example.com' }), want: 'email_missing' },
    { name: 'email_verified false', claims: verified('user@example.com', { email_verified: false }), want: 'email_unverified' },
    { name: 'email_verified "false"', claims: verified('user@example.com', { email_verified: 'false' }), want: 'email_unverified' },
    { name: 'email_verified "FALSE"', claims: verified('user@example.com', { email_verified: 'FALSE' }), want: 'email_unverified' },
    { name: 'email_verified 0', claims: verified('user@example.com', { email_verified: 0 }), want: 'email_unverified' },
    { name: 'email_verified null', claims: verified('user@example.com', { email_verified: null }), want: 'email_unverified' },
    { name: 'email_verified "no"', claims: verified('user@example.com', { email_verified: 'no' }), want: 'email_unverified' },
    { name: 'email_verified "true" passes', claims: verified('user@example.com', { email_verified: 'true' }), want: null },
    { name: 'email_verified absent passes (Entra ID sends none)', claims: { sub: 'u', email: 'user@example.com' }, want: null },
    { name: 'one of several domains', rules: rules({ emailDomains: ['corp.example', 'example.com'] }), claims: verified('x@example.com'), want: null },
    { name: '*.example.com admits a sub-domain', rules: rules({ emailDomains: ['*.example.com'] }), claims: verified('x@sub.example.com'), want: null },
    { name: '*.example.com admits a deeper sub-domain', rules: rules({ emailDomains: ['*.example.com'] }), claims: verified('x@a.b.example.com'), want: null },
    { name: '*.example.com does not admit example.com itself', rules: rules({ emailDomains: ['*.example.com'] }), claims: verified('x@example.com'), want: 'email_domain' },
    { name: '*.example.com does not admit notexample.com', rules: rules({ emailDomains: ['*.example.com'] }), claims: verified('x@notexample.com'), want: 'email_domain' },
    { name: '*.example.com does not admit sub.example.com.evil', rules: rules({ emailDomains: ['*.example.com'] }), claims: verified('x@sub.example.com.evil'), want: 'email_domain' },
    { name: 'no rules: anyone, even without email', rules: rules(), claims: { sub: 'u' }, want: null },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(accessDenial(c.rules ?? domain, c.claims), c.want));
  }
});

describe('accessDenial: ALLOWED_GROUPS', () => {
  const admins = rules({ groups: ['admins', 'ops'] });
  const cases: Array<{ name: string; rules?: AccessRules; claims: Record<string, unknown>; want: AccessDenial | null }> = [
    { name: 'one listed group in the array', claims: { groups: ['users', 'ops'] }, want: null },
    { name: 'no listed group', claims: { groups: ['users'] }, want: 'groups' },
    { name: 'empty array', claims: { groups: [] }, want: 'groups' },
    { name: 'claim missing', claims: {}, want: 'groups' },
    { name: 'a single string is one group', claims: { groups: 'admins' }, want: null },
    { name: 'a string is never split on commas', claims: { groups: 'users,admins' }, want: 'groups' },
    { name: 'a string is never split on spaces', claims: { groups: 'users admins' }, want: 'groups' },
    { name: 'case-sensitive', claims: { groups: ['Admins'] }, want: 'groups' },
    { name: 'no trimming', claims: { groups: [' admins'] }, want: 'groups' },
    { name: 'non-strings in the array are skipped', claims: { groups: [1, null, { admins: true }, ['admins'], 'ops'] }, want: null },
    { name: 'only non-strings', claims: { groups: [['admins'], { name: 'admins' }] }, want: 'groups' },
    { name: 'an object is no group list', claims: { groups: { admins: true } }, want: 'groups' },
    { name: 'a number is no group', claims: { groups: 7 }, rules: rules({ groups: ['7'] }), want: 'groups' },
    { name: 'another claim name', rules: rules({ groups: ['admins'], groupsClaim: 'roles' }), claims: { roles: ['admins'], groups: [] }, want: null },
    { name: 'the default claim is not read when another is configured', rules: rules({ groups: ['admins'], groupsClaim: 'roles' }), claims: { groups: ['admins'] }, want: 'groups' },
    { name: 'nested claim with dots (Keycloak realm_access.roles)', rules: rules({ groups: ['admins'], groupsClaim: 'realm_access.roles' }), claims: { realm_access: { roles: ['admins'] } }, want: null },
    { name: 'a claim named with dots wins over nesting', rules: rules({ groups: ['admins'], groupsClaim: 'https://example.com/groups' }), claims: { 'https://example.com/groups': ['admins'] }, want: null },
    { name: 'nesting stops at arrays', rules: rules({ groups: ['admins'], groupsClaim: 'a.0' }), claims: { a: [['admins']] }, want: 'groups' },
    { name: '__proto__ reads nothing', rules: rules({ groups: ['admins'], groupsClaim: '__proto__.groups' }), claims: JSON.parse('{"x":1}'), want: 'groups' },
    { name: 'constructor reads nothing', rules: rules({ groups: ['admins'], groupsClaim: 'constructor.name' }), claims: {}, want: 'groups' },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(accessDenial(c.rules ?? admins, c.claims), c.want));
  }
});

describe('accessDenial: both rules', () => {
  const both = rules({ emailDomains: ['example.com'], groups: ['admins'] });
  test('both pass', () => assert.equal(accessDenial(both, verified('a@example.com', { groups: ['admins'] })), null));
  test('domain passes, group fails', () => assert.equal(accessDenial(both, verified('a@example.com', { groups: ['users'] })), 'groups'));
  test('group passes, domain fails', () => assert.equal(accessDenial(both, verified('a@evil.com', { groups: ['admins'] })), 'email_domain'));
  test('group passes, email unverified', () => assert.equal(accessDenial(both, verified('a@example.com', { groups: ['admins'], email_verified: false })), 'email_unverified'));
});

describe('helpers', () => {
  test('emailDomain is the part after the last @, lowercased (ASCII only)', () => {
    assert.equal(emailDomain('"a@b"@Sub.Example.COM'), 'sub.example.com');
    assert.equal(emailDomain('a@b@c.d'), 'c.d');
    assert.equal(emailDomain('nobody'), null);
  });
  test('claimAt', () => {
    assert.deepEqual(claimAt({ a: { b: { c: 1 } } }, 'a.b.c'), 1);
    assert.equal(claimAt({ a: 1 }, 'a.b'), undefined);
    assert.equal(claimAt({}, 'toString'), undefined);
  });
  test('groupsOf drops empty strings', () => assert.deepEqual(groupsOf({ groups: ['', 'a'] }, 'groups'), ['a']));
  test('hasAccessRules', () => {
    assert.equal(hasAccessRules(rules()), false);
    assert.equal(hasAccessRules(domain), true);
    assert.equal(hasAccessRules(rules({ groups: ['x'] })), true);
  });
});

describe('config: ALLOWED_EMAIL_DOMAINS, ALLOWED_GROUPS, GROUPS_CLAIM, UPSTREAM_IDENTITY_HEADERS', () => {
  test('defaults: no rules, groups claim "groups", identity headers off', () => {
    const c = loadConfig({});
    assert.deepEqual(c.access, { emailDomains: [], groups: [], groupsClaim: 'groups' });
    assert.equal(c.identityHeaders, false);
  });
  test('lists are trimmed, domains lowercased, duplicate groups dropped', () => {
    const c = loadConfig({ ALLOWED_EMAIL_DOMAINS: ' Example.com , *.Corp.Example ', ALLOWED_GROUPS: 'admins, ops ,admins', GROUPS_CLAIM: ' roles ', UPSTREAM_IDENTITY_HEADERS: 'true' });
    assert.deepEqual(c.access, { emailDomains: ['example.com', '*.corp.example'], groups: ['admins', 'ops'], groupsClaim: 'roles' });
    assert.equal(c.identityHeaders, true);
  });
  test('an empty GROUPS_CLAIM is the default', () => assert.equal(loadConfig({ GROUPS_CLAIM: '' }).access.groupsClaim, 'groups'));
  for (const bad of ['@example.com', '*', 'user@example.com', 'example', '*.com.', 'exa mple.com', 'example..com', 'ex*ample.com', '*example.com']) {
    test(`ALLOWED_EMAIL_DOMAINS=${JSON.stringify(bad)} stops startup naming the variable`, () => {
      assert.throws(() => loadConfig({ ALLOWED_EMAIL_DOMAINS: bad }), (e: Error) => /ALLOWED_EMAIL_DOMAINS: /.test(e.message));
    });
  }
  test('UPSTREAM_IDENTITY_HEADERS=maybe stops startup naming the variable', () => {
    assert.throws(() => loadConfig({ UPSTREAM_IDENTITY_HEADERS: 'maybe' }), /UPSTREAM_IDENTITY_HEADERS: /);
  });
});
