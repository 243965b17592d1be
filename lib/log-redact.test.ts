// The redaction rule of every log line (lib/log-redact.ts): secrets by key name at any depth,
// credentials by value, errors with type, message, stack and cause chain, in one linear walk.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REDACTED, SECRET_KEY, redactFields } from './log-redact';

/** Every secret value below starts with this, so one search finds any that got through. */
const S = 'SECRET-VALUE-';

/** A logged request carrying every kind of secret the issue names, at every depth and shape. */
function everySecret() {
  const idpAnswer = { error: 'invalid_grant', access_token: `${S}1`, refresh_token: `${S}2`, id_token: `${S}3` };
  const cause = Object.assign(new Error('token endpoint said no', { cause: { code: `${S}4`, client_secret: `${S}5`, answer: idpAnswer } }), { error: 'invalid_grant', status: 400 });
  return {
    authorization: `Bearer ${S}6`,
    cookie: `gatehouse.session=${S}7`,
    'set-cookie': [`gatehouse.session=${S}8; Path=/; HttpOnly`],
    code: `${S}9`,
    code_verifier: `${S}10`,
    client_secret: `${S}11`,
    logout_token: `${S}12`,
    password: `${S}13`,
    secret: `${S}14`,
    request: {
      method: 'GET',
      headers: { Authorization: `Basic ${S}15`, Cookie: `a=${S}16`, 'X-Auth-Token': `${S}17`, 'Proxy-Authorization': `Bearer ${S}18`, accept: 'text/html' },
      query: new URLSearchParams({ code: `${S}19`, state: 'kept-state' }),
      nested: [{ deeper: { sessionToken: `${S}20`, REDIS_PASSWORD: `${S}21` } }],
    },
    fetchHeaders: new Headers({ authorization: `Bearer ${S}22`, cookie: `b=${S}23`, 'set-cookie': `c=${S}24`, 'content-type': 'application/json' }),
    headerMap: new Map<string, unknown>([['Cookie', `d=${S}25`], ['x-api-key', `${S}26`]]),
    callback: new URL(`https://app.example.com/oauth2/callback?code=${S}27&state=kept&access_token=${S}28`),
    redis: new URL(`redis://user:${S}29@redis:6379`),
    // A credential under a harmless name: caught by its value.
    header: `Bearer ${S}30`,
    idToken: `eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.${S}31`,
    error: cause,
    aggregate: new AggregateError([new Error('one', { cause: { password: `${S}32` } })], 'several'),
  };
}

describe('log redaction', () => {
  test('a request carrying every secret, nested, in headers and in an error cause, leaves none in the line', () => {
    const line = JSON.stringify(redactFields(everySecret()));
    assert.ok(!line.includes(S), `a secret got through:\n${line}`);
    // What is not secret is still there: the line stays useful.
    for (const kept of ['"method":"GET"', '"accept":"text/html"', '"state":"kept-state"', '"content-type":"application/json"', 'state=kept', 'token endpoint said no', '"error":"invalid_grant"', 'several', 'redis:6379']) {
      assert.ok(line.includes(kept), `${kept} missing from\n${line}`);
    }
  });

  test('secret keys are replaced by a marker, not dropped, so the reader sees a value was there', () => {
    const out = redactFields({ authorization: 'x', request: { headers: { cookie: 'y' } } }) as { authorization: string; request: { headers: { cookie: string } } };
    assert.equal(out.authorization, REDACTED);
    assert.equal(out.request.headers.cookie, REDACTED);
  });

  const keys: Array<[string, boolean]> = [
    ['authorization', true], ['Authorization', true], ['proxy-authorization', true], ['cookie', true], ['Cookie', true], ['cookies', true], ['set-cookie', true], ['setCookies', true], ['set_cookie', true],
    ['access_token', true], ['refresh_token', true], ['id_token', true], ['logout_token', true], ['accessToken', true], ['x-auth-token', true], ['token', true],
    ['code', true], ['CODE', true], ['code_verifier', true], ['codeVerifier', true], ['client_secret', true], ['clientSecret', true], ['SESSION_SECRET', true],
    ['password', true], ['REDIS_PASSWORD', true], ['sentinelPassword', true], ['passwd', true], ['credentials', true], ['x-api-key', true], ['api_key', true],
    ['client_assertion', true], ['privateKey', true],
    // Kept: Gatehouse's own fields and the ones an operator needs.
    ['error_code', false], ['status', false], ['route', false], ['method', false], ['msg', false], ['correlation_id', false], ['state', false],
    ['session', false], ['cookiePrefix', false], ['idp_error', false], ['upstream', false], ['accept', false], ['user-agent', false], ['reason', false],
  ];
  for (const [key, secret] of keys) {
    test(`key ${key}: ${secret ? 'redacted' : 'kept'}`, () => assert.equal(SECRET_KEY.test(key), secret));
  }

  test('an error is written with type, message, stack, its own code and fields, and the whole cause chain', () => {
    class UpstreamError extends Error {}
    const root = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', port: 1 });
    const middle = new TypeError('fetch failed', { cause: root });
    const top = new UpstreamError('upstream unavailable', { cause: middle });
    const { error } = redactFields({ error: top }) as { error: Record<string, any> };
    assert.equal(error.type, 'UpstreamError');
    assert.equal(error.message, 'upstream unavailable');
    assert.match(error.stack, /^Error: upstream unavailable\n\s+at /);
    assert.equal(error.cause.type, 'TypeError');
    assert.equal(error.cause.message, 'fetch failed');
    assert.match(error.cause.stack, /TypeError: fetch failed/);
    assert.deepEqual({ type: error.cause.cause.type, message: error.cause.cause.message, code: error.cause.cause.code, port: error.cause.cause.port }, { type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED', port: 1 });
    assert.equal(error.cause.cause.cause, undefined);
  });

  test('object fields of an error are left out: ioredis keeps AUTH and its password in command.args', () => {
    class ReplyError extends Error {}
    const wrongPass = Object.assign(new ReplyError('WRONGPASS invalid username-password pair'), { command: { name: 'auth', args: ['default', `${S}auth`] }, request: { headers: { 'x-session': `${S}req` } } });
    const out = redactFields({ error: wrongPass }) as { error: Record<string, unknown> };
    assert.ok(!JSON.stringify(out).includes(S), JSON.stringify(out));
    assert.deepEqual([out.error.type, out.error.message], ['ReplyError', 'WRONGPASS invalid username-password pair']);
    assert.ok(!('command' in out.error) && !('request' in out.error));
  });

  test('an AggregateError keeps its errors; a non-error cause is cleaned like any value', () => {
    const { error } = redactFields({ error: new AggregateError([new RangeError('a')], 'all failed', { cause: { reason: 'x', token: 't' } }) }) as { error: Record<string, any> };
    assert.equal(error.type, 'AggregateError');
    assert.equal(error.errors[0].type, 'RangeError');
    assert.deepEqual(error.cause, { reason: 'x', token: REDACTED });
  });

  test('circular and repeated references are written once, then marked', () => {
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    const out = redactFields({ loop }) as { loop: { name: string; self: string } };
    assert.deepEqual(out.loop, { name: 'loop', self: '[repeated]' });
    const selfCause = new Error('again');
    (selfCause as { cause?: unknown }).cause = selfCause;
    assert.equal((redactFields({ error: selfCause }) as { error: { cause: string } }).error.cause, '[repeated]');
  });

  test('linear in what is logged: a value shared a million million ways is walked once', () => {
    // Each level holds 30 references to the level below: 30^8 paths (a walk that revisited shared
    // objects would never finish), 8 objects. The test completes at all only if each is seen once.
    let node: unknown = { leaf: true };
    for (let level = 0; level < 8; level++) node = Array.from({ length: 30 }, () => node);
    const line = JSON.stringify(redactFields({ node }));
    assert.ok(line.length < 10_000, `${line.length} characters`);
  });

  test('depth is bounded: a deeply nested value ends in a marker', () => {
    let node: Record<string, unknown> = { bottom: true };
    for (let i = 0; i < 50; i++) node = { down: node };
    assert.match(JSON.stringify(redactFields({ node })), /"\[too deep\]"/);
  });

  test('values JSON cannot hold are made readable', () => {
    const out = redactFields({ big: 10n ** 20n, when: new Date(0), bytes: Buffer.from('abcd'), set: new Set([1, 2]), gone: undefined, fn: () => 1 });
    assert.deepEqual(JSON.parse(JSON.stringify(out)), { big: '100000000000000000000', when: '1970-01-01T00:00:00.000Z', bytes: '[4 bytes]', set: [1, 2] });
  });
});
