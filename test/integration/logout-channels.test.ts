// IdP-initiated logout (SPEC §3): OIDC Back-Channel Logout (a signed logout_token POSTed server to
// server) and Front-Channel Logout (a GET with iss + sid), against the production build, the dev
// IdP and, for the Redis store, a real redis-server — including two Gatehouse processes on one
// Redis. The cookie store runs the same scenarios in one process (its revocations are per process,
// SPEC §5).
//
// The IdP signs with a key this file generates, so the tests can also mint logout tokens of their
// own: valid ones (a positive control for the refusals) and every kind of invalid one.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/logout-channels.test.ts

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT, base64url, exportJWK, generateKeyPair, type JWTPayload, type CryptoKey } from 'jose';
import { readSessionCookie } from '../../lib/session/session-cookie';
import { redisKeys } from '../../lib/session/redis-store';
import { startApp } from '../harness/app';
import { Browser, FETCH_HEADERS, httpRequest, loginViaIdp } from '../harness/http';
import { freePort } from '../harness/ports';
import { startStack, type Stack } from '../harness/stack';
import { SESSION_COOKIE, STORES } from './support';

const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const KID = 'logout-test-key';

async function rsaKey(): Promise<{ privateKey: CryptoKey; jwk: Record<string, unknown> }> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(privateKey)), kid: KID, alg: 'RS256', use: 'sig' } };
}

interface Minting { key: CryptoKey; kid?: string; alg?: string; typ?: string }

function mint(claims: JWTPayload, m: Minting): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: m.alg ?? 'RS256', kid: m.kid ?? KID, typ: m.typ ?? 'logout+jwt' }).sign(m.key);
}

async function postLogoutToken(appUrl: string, token: string | undefined): Promise<{ status: number; text: string; contentType: string }> {
  const res = await httpRequest(`${appUrl}/oauth2/logout/backchannel`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: token === undefined ? '' : new URLSearchParams({ logout_token: token }).toString(),
  });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

/** Whether `browser` has a session at `appUrl`: /oauth2/session status and the Bearer the API gets. */
async function sessionState(browser: Browser, appUrl: string): Promise<{ session: number; bearer: boolean }> {
  const s = await browser.get(`${appUrl}/oauth2/session`, { headers: FETCH_HEADERS });
  await s.body?.cancel();
  const api = await browser.get(`${appUrl}/api/whoami`, { headers: FETCH_HEADERS });
  const text = await api.text();
  assert.equal(api.status, 200, `API through Gatehouse: ${api.status} ${text.slice(0, 200)}`);
  return { session: s.status, bearer: (JSON.parse(text) as { headers: Record<string, string> }).headers.authorization !== undefined };
}

async function assertAlive(browser: Browser, appUrl: string, what: string): Promise<void> {
  assert.deepEqual(await sessionState(browser, appUrl), { session: 200, bearer: true }, `${what}: the session should be alive`);
}

async function assertGone(browser: Browser, appUrl: string, what: string): Promise<void> {
  assert.deepEqual(await sessionState(browser, appUrl), { session: 401, bearer: false }, `${what}: the session should be gone`);
}

for (const store of STORES) {
  describe(`logout channels (${store.name})`, () => {
    let stack: Stack;
    let appUrl: string;
    let idpKey: CryptoKey;

    before(async () => {
      const key = await rsaKey();
      idpKey = key.privateKey;
      stack = await startStack({ redis: store.redis, idp: { jwks: { keys: [key.jwk] } } });
      appUrl = stack.app.url;
    });
    after(async () => {
      await stack?.close();
    });

    const login = async (name = 'alice'): Promise<{ browser: Browser; sid: string }> => {
      const browser = new Browser();
      await loginViaIdp(browser, appUrl, { login: name });
      const sid = stack.idp.lastSid(name);
      assert.ok(sid, 'the IdP knows the sid of the login');
      return { browser, sid };
    };

    /** The Redis key of a browser's session (Redis store only). */
    const sessionKey = async (browser: Browser): Promise<string> => {
      const cookies = new Map([[SESSION_COOKIE, browser.cookie(appUrl, SESSION_COOKIE)!.value]]);
      const payload = await readSessionCookie(cookies, 'gatehouse', stack.env.SESSION_SECRET.split(','), 3600);
      assert.equal(payload?.t, 'ticket');
      return redisKeys.session(payload!.t === 'ticket' ? payload!.id : '');
    };

    const claims = (over: JWTPayload = {}): JWTPayload => {
      const now = Math.floor(Date.now() / 1000);
      return { iss: stack.idp.issuer, aud: stack.client.clientId, iat: now, exp: now + 120, jti: randomUUID(), events: { [BACKCHANNEL_EVENT]: {} }, ...over };
    };

    test('back-channel logout sent by the IdP ends the session of that sid, not another of the same user', async () => {
      const first = await login('alice');
      const second = await login('alice');
      assert.notEqual(first.sid, second.sid, 'two browsers, two IdP sessions');
      await assertAlive(first.browser, appUrl, 'first browser');
      const key = store.redis ? await sessionKey(first.browser) : undefined;
      if (key) assert.equal(await stack.redis!.client().exists(key), 1);

      // Resolves once the app answered the IdP's POST with 200 (oidc-provider throws otherwise).
      await stack.idp.backchannelLogout({ clientId: stack.client.clientId, sub: 'alice', sid: first.sid });

      await assertGone(first.browser, appUrl, 'first browser');
      if (key) assert.equal(await stack.redis!.client().exists(key), 0, 'the Redis session key is deleted');
      await assertAlive(second.browser, appUrl, 'second browser (other sid)');
    });

    test('a logout token with sub and no sid ends every session of that user', async () => {
      const bob1 = await login('bob');
      const bob2 = await login('bob');
      const carol = await login('carol');
      const res = await postLogoutToken(appUrl, await mint(claims({ sub: 'bob' }), { key: idpKey }));
      assert.equal(res.status, 200, res.text);
      await assertGone(bob1.browser, appUrl, 'bob, first browser');
      await assertGone(bob2.browser, appUrl, 'bob, second browser');
      await assertAlive(carol.browser, appUrl, 'carol');
    });

    test('invalid logout tokens: 400 {"error":"invalid_request"} and no session ends', async () => {
      const { browser, sid } = await login('dave');
      const other = await rsaKey();
      const valid = (over: JWTPayload = {}) => claims({ sid, sub: 'dave', ...over });
      const withoutEvents = valid();
      delete withoutEvents.events;
      const noSubject = valid();
      delete noSubject.sid;
      delete noSubject.sub;
      const noJti = valid();
      delete noJti.jti;
      const unsigned = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'logout+jwt' }))}.${base64url.encode(JSON.stringify(valid()))}.`;
      const now = Math.floor(Date.now() / 1000);

      const cases: Array<[string, string | undefined]> = [
        ['no logout_token', undefined],
        ['garbage', 'not-a-jwt'],
        ['garbage with dots', 'a.b.c'],
        ['unsigned (alg none)', unsigned],
        ['signed with another key under the IdP key id', await mint(valid(), { key: other.privateKey })],
        ['signed with another key under an unknown key id', await mint(valid(), { key: other.privateKey, kid: 'unknown-key' })],
        ['aud is another client', await mint(valid({ aud: 'another-client' }), { key: idpKey })],
        ['iss is another issuer', await mint(valid({ iss: 'http://127.0.0.1:1' }), { key: idpKey })],
        ['carries a nonce', await mint(valid({ nonce: 'n-0S6_WzA2Mj' }), { key: idpKey })],
        ['no events claim', await mint(withoutEvents, { key: idpKey })],
        ['events without the back-channel logout event', await mint(valid({ events: { 'http://schemas.openid.net/event/other': {} } }), { key: idpKey })],
        ['events member is not an object', await mint(valid({ events: { [BACKCHANNEL_EVENT]: 'yes' } }), { key: idpKey })],
        ['neither sid nor sub', await mint(noSubject, { key: idpKey })],
        ['no jti', await mint(noJti, { key: idpKey })],
        ['issued an hour ago', await mint(valid({ iat: now - 3600, exp: now + 60 }), { key: idpKey })],
        ['expired', await mint(valid({ iat: now - 400, exp: now - 300 }), { key: idpKey })],
      ];
      for (const [name, token] of cases) {
        const res = await postLogoutToken(appUrl, token);
        assert.equal(res.status, 400, `${name}: ${res.status} ${res.text}`);
        assert.match(res.contentType, /^application\/json/, name);
        assert.deepEqual(JSON.parse(res.text), { error: 'invalid_request' }, name);
      }
      await assertAlive(browser, appUrl, 'after the invalid tokens');

      // Positive control: the same key and claims, valid, do end the session.
      const res = await postLogoutToken(appUrl, await mint(valid(), { key: idpKey }));
      assert.equal(res.status, 200, res.text);
      await assertGone(browser, appUrl, 'after a valid token');
    });

    test('a replayed logout token (same jti) is refused', async () => {
      const token = await mint(claims({ sid: `unknown-${randomUUID()}`, sub: 'nobody' }), { key: idpKey });
      assert.equal((await postLogoutToken(appUrl, token)).status, 200);
      const replay = await postLogoutToken(appUrl, token);
      assert.equal(replay.status, 400, replay.text);
      assert.deepEqual(JSON.parse(replay.text), { error: 'invalid_request' });
    });

    test('front-channel logout: iss + sid ends the session; a wrong iss or no sid ends nothing', async () => {
      const { browser, sid } = await login('erin');
      const bystander = await login('frank');
      const front = async (query: Record<string, string>) => {
        // A front-channel logout arrives from the IdP's page; it needs no cookie of the user.
        const res = await httpRequest(`${appUrl}/oauth2/logout/frontchannel?${new URLSearchParams(query)}`, { headers: { accept: 'text/html' } });
        return { status: res.status, text: await res.text(), headers: res.headers };
      };

      const wrongIss = await front({ iss: 'http://127.0.0.1:1', sid });
      assert.ok(wrongIss.status >= 400 && wrongIss.status < 500, `wrong iss: ${wrongIss.status}`);
      await assertAlive(browser, appUrl, 'after a wrong iss');

      const noSid = await front({ iss: stack.idp.issuer });
      assert.equal(noSid.status, 202);
      await assertAlive(browser, appUrl, 'after a request without sid');

      const ok = await front({ iss: stack.idp.issuer, sid });
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('content-type') ?? '', /^text\/html/);
      assert.equal(ok.text, '', 'empty HTML body');
      assert.match(ok.headers.get('cache-control') ?? '', /no-store/);
      await assertGone(browser, appUrl, 'after front-channel logout');
      await assertAlive(bystander.browser, appUrl, 'another user');
    });

    if (store.redis) {
      test('two Gatehouse processes on one Redis: a logout received by one ends the session on the other', async () => {
        const second = await startApp(stack.env, { port: await freePort() });
        try {
          const { browser, sid } = await login('grace');
          // Same host, another port: a browser would send the cookie to both (cookies ignore ports).
          browser.setCookie(second.url, SESSION_COOKIE, browser.cookie(appUrl, SESSION_COOKIE)!.value);
          await assertAlive(browser, second.url, 'second process before the logout');

          // The IdP delivers to the registered URL: the first process.
          await stack.idp.backchannelLogout({ clientId: stack.client.clientId, sub: 'grace', sid });
          await assertGone(browser, second.url, 'second process');
          await assertGone(browser, appUrl, 'first process');

          // Replay protection is shared too.
          const token = await mint(claims({ sid: `unknown-${randomUUID()}` }), { key: idpKey });
          assert.equal((await postLogoutToken(second.url, token)).status, 200);
          assert.equal((await postLogoutToken(appUrl, token)).status, 400, 'a jti used at one process is refused by the other');
        } finally {
          await second.stop();
        }
      });
    }
  });
}
