// Self-test of the dev IdP the integration tests log in through, without the app: the code flow
// with PKCE by hand, refresh rotation and replay, injected faults, PAR, RP-initiated and
// back-channel logout, resource indicators. If these fail, app tests cannot be trusted.
//
//   node --import tsx --test test/harness/dev-idp.test.ts

import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { startIdp, type Idp } from '../../dev/idp';
import { startUpstream, type Upstream } from '../../dev/upstream';
import { Browser, parseForms } from './http';
import { pkce, type TokenResponse } from './pkce';
import { eventually } from './wait';

const REDIRECT_URI = 'http://127.0.0.1:1/cb'; // never fetched: following stops before it
const POST_LOGOUT_URI = 'http://127.0.0.1:1/logged-out';
const CLIENT_ID = 'harness-client';
const CLIENT_SECRET = 'harness-secret-0123456789abcdefghij';
const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
const stopAtRp = (u: URL) => u.origin === 'http://127.0.0.1:1';

describe('dev IdP', () => {
  let idp: Idp;
  let upstream: Upstream;
  const browser = new Browser();
  let tokens: TokenResponse;

  before(async () => {
    // The upstream doubles as the back-channel logout receiver: it records the POST.
    upstream = await startUpstream();
    idp = await startIdp({
      accessTokenTtlSeconds: 120,
      clients: [
        {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUris: [REDIRECT_URI],
          postLogoutRedirectUris: [POST_LOGOUT_URI],
          backchannelLogoutUri: `${upstream.url}/backchannel`,
        },
      ],
    });
  });
  after(async () => {
    await idp?.close();
    await upstream?.close();
  });

  const token = async (params: Record<string, string>): Promise<{ status: number; body: TokenResponse }> => {
    const res = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });
    return { status: res.status, body: (await res.json()) as TokenResponse };
  };

  test('discovery advertises what Gatehouse relies on', async () => {
    const meta = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    assert.equal(meta.issuer, idp.issuer);
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.ok(meta.pushed_authorization_request_endpoint);
    assert.ok(meta.end_session_endpoint);
    assert.equal(meta.backchannel_logout_supported, true);
  });

  test('PKCE is required', async () => {
    const u = new URL(`${idp.issuer}/auth`);
    u.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: REDIRECT_URI,
      state: 's',
    }).toString();
    const page = await new Browser().follow(u, { stopAt: stopAtRp });
    assert.ok(page.stoppedAt, `expected an error redirect, got ${page.status}`);
    const back = new URL(page.stoppedAt);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description') ?? '', /PKCE/);
  });

  test('authorization code flow: login form, no consent, code + iss back, tokens with claims', async () => {
    const { verifier, challenge } = pkce();
    const state = randomBytes(8).toString('hex');
    const nonce = randomBytes(8).toString('hex');
    const u = new URL(`${idp.issuer}/auth`);
    u.search = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      scope: 'openid profile email offline_access',
      redirect_uri: REDIRECT_URI,
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();

    const loginPage = await browser.follow(u, { stopAt: stopAtRp });
    assert.equal(loginPage.status, 200);
    const form = parseForms(loginPage.body, loginPage.url).find((f) => f.fields.prompt === 'login');
    assert.ok(form, 'devInteractions login form');
    assert.doesNotMatch(loginPage.body, /fonts\.googleapis/, 'offline-hostile font import stripped');

    const back = await browser.submit(form, { login: 'alice', password: 'whatever' }, { stopAt: stopAtRp });
    assert.ok(back.stoppedAt, `expected the redirect to the RP, hops:\n${JSON.stringify(back.hops, null, 1)}`);
    const cb = new URL(back.stoppedAt);
    assert.equal(cb.origin + cb.pathname, REDIRECT_URI);
    assert.equal(cb.searchParams.get('state'), state);
    assert.equal(cb.searchParams.get('iss'), idp.issuer, 'RFC 9207 iss');
    const code = cb.searchParams.get('code');
    assert.ok(code);
    assert.ok(!back.hops.some((h) => /consent/i.test(h.url)), 'no consent screen');
    assert.equal(idp.authorizationRequests.at(-1)?.code_challenge, challenge);

    const res = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    tokens = res.body;
    assert.ok(tokens.access_token && tokens.refresh_token && tokens.id_token);
    assert.equal(tokens.expires_in, 120);
    const claims = decodeJwt(tokens.id_token);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.name, 'Alice Demo');
    assert.equal(claims.email, 'alice@example.com');
    assert.equal(claims.preferred_username, 'alice');
    assert.equal(claims.nonce, nonce);
    assert.ok(typeof claims.sid === 'string', 'sid in id_token');
    assert.equal(idp.lastSid('alice'), claims.sid);
    assert.equal(idp.grants.authorizationCodeGrants, 1);
    assert.equal(idp.grants.refreshGrants, 0);
  });

  test('refresh rotates; replaying a used refresh token revokes the grant', async () => {
    const first = tokens.refresh_token!;
    const r1 = await token({ grant_type: 'refresh_token', refresh_token: first });
    assert.equal(r1.status, 200, JSON.stringify(r1.body));
    assert.ok(r1.body.refresh_token && r1.body.refresh_token !== first, 'rotated');
    assert.equal(idp.grants.refreshGrants, 1);

    const replay = await token({ grant_type: 'refresh_token', refresh_token: first });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.equal(idp.grants.refreshGrantErrors, 1);

    const afterRevoke = await token({ grant_type: 'refresh_token', refresh_token: r1.body.refresh_token! });
    assert.equal(afterRevoke.body.error, 'invalid_grant', 'whole grant revoked');
    assert.equal(idp.grants.refreshGrants, 1);
  });

  test('injected token endpoint faults and delays', async () => {
    idp.failTokenRequests(1, 503);
    const failed = await token({ grant_type: 'refresh_token', refresh_token: 'x' });
    assert.equal(failed.status, 503);
    assert.equal(failed.body.error, 'temporarily_unavailable');
    const next = await token({ grant_type: 'refresh_token', refresh_token: 'x' });
    assert.equal(next.status, 400, 'fault used up');
    idp.delayTokenRequests(200);
    const t0 = Date.now();
    await token({ grant_type: 'refresh_token', refresh_token: 'x' });
    assert.ok(Date.now() - t0 >= 190);
    idp.delayTokenRequests(0);
  });

  test('a held token request waits for its release, and is counted while it waits', async () => {
    const release = idp.holdTokenRequests();
    let answered = false;
    const pending = token({ grant_type: 'refresh_token', refresh_token: 'x' }).then((r) => ((answered = true), r));
    await eventually('the token request to be held', 5_000, () => idp.heldTokenRequests === 1);
    assert.equal(answered, false, 'no answer while held');
    release();
    assert.equal((await pending).status, 400, 'answered normally once released');
    assert.equal(idp.heldTokenRequests, 0);
    // Released for good: the next request is not held.
    assert.equal((await token({ grant_type: 'refresh_token', refresh_token: 'x' })).status, 400);
  });

  test('PAR with prompt=select_account (treated as login) in the same browser', async () => {
    const { verifier, challenge } = pkce();
    const par = await fetch(`${idp.issuer}/request`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: CLIENT_ID,
        response_type: 'code',
        scope: 'openid profile',
        redirect_uri: REDIRECT_URI,
        state: 'par-state',
        prompt: 'select_account',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    });
    assert.equal(par.status, 201, await par.clone().text());
    const { request_uri } = (await par.json()) as { request_uri: string };
    assert.equal(idp.authorizationRequests.at(-1)?.prompt, 'select_account', 'recorded as sent');

    const u = new URL(`${idp.issuer}/auth`);
    u.search = new URLSearchParams({ client_id: CLIENT_ID, request_uri }).toString();
    const page = await browser.follow(u, { stopAt: stopAtRp });
    const form = parseForms(page.body, page.url).find((f) => f.fields.prompt === 'login');
    assert.ok(form, 'select_account shows the login form again');
    const back = await browser.submit(form, { login: 'bob', password: 'x' }, { stopAt: stopAtRp });
    const code = new URL(back.stoppedAt!).searchParams.get('code')!;
    const res = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
    assert.equal(res.status, 200);
    assert.equal(decodeJwt(res.body.id_token!).sub, 'bob');
    tokens = res.body;
    // oidc-provider ends the IdP session of the previous account (alice) when another one logs in
    // over it — including back-channel logout for alice. Tests logging in as several users in one
    // Browser should expect that.
    assert.equal(idp.endSessions, 1);
    assert.deepEqual(idp.backchannelLogouts.map((b) => [b.sub, b.ok]), [['alice', true]]);
  });

  test('RP-initiated logout auto-confirms and delivers back-channel logout to loopback', async () => {
    const u = new URL(`${idp.issuer}/session/end`);
    u.search = new URLSearchParams({
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: POST_LOGOUT_URI,
      state: 'bye',
    }).toString();
    const page = await browser.follow(u, { stopAt: stopAtRp });
    assert.ok(page.stoppedAt, `expected redirect to post-logout URI, hops:\n${JSON.stringify(page.hops, null, 1)}`);
    const back = new URL(page.stoppedAt);
    assert.equal(back.origin + back.pathname, POST_LOGOUT_URI);
    assert.equal(back.searchParams.get('state'), 'bye');
    assert.equal(idp.endSessions, 2);

    assert.deepEqual(idp.backchannelLogouts.map((b) => [b.clientId, b.sub, b.ok]).at(-1), [CLIENT_ID, 'bob', true]);
    const delivered = upstream.last('/backchannel');
    assert.ok(delivered, 'logout token POSTed to the loopback upstream');
    const logoutToken = new URLSearchParams(delivered.body.toString()).get('logout_token')!;
    const claims = decodeJwt(logoutToken);
    assert.equal(claims.sub, 'bob');
    assert.ok(claims.sid);
    assert.ok((claims.events as Record<string, unknown>)['http://schemas.openid.net/event/backchannel-logout']);
  });

  test('IdP-initiated back-channel logout on demand', async () => {
    const countBefore = upstream.requests.length;
    await idp.backchannelLogout({ clientId: CLIENT_ID, sub: 'carol', sid: 'sid-123' });
    assert.equal(upstream.requests.length, countBefore + 1);
    const claims = decodeJwt(new URLSearchParams(upstream.last('/backchannel')!.body.toString()).get('logout_token')!);
    assert.equal(claims.sid, 'sid-123');
    assert.equal(claims.aud, CLIENT_ID);
  });
});

test('resource indicators (RFC 8707): JWT access token for an allowed resource, invalid_target otherwise', async () => {
  const resource = 'https://api.example.test';
  const idp = await startIdp({
    resourceIndicators: [resource],
    clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [] }],
  });
  try {
    const browser = new Browser();
    const authorize = async (res: string) => {
      const { verifier, challenge } = pkce();
      const u = new URL(`${idp.issuer}/auth`);
      u.search = new URLSearchParams({
        client_id: CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI,
        state: 's', code_challenge: challenge, code_challenge_method: 'S256', resource: res,
      }).toString();
      let page = await browser.follow(u, { stopAt: stopAtRp });
      const form = parseForms(page.body, page.url).find((f) => f.fields.prompt === 'login');
      if (form) page = await browser.submit(form, { login: 'gina', password: 'x' }, { stopAt: stopAtRp });
      return { back: new URL(page.stoppedAt!), verifier };
    };
    const denied = await authorize('https://elsewhere.test');
    assert.equal(denied.back.searchParams.get('error'), 'invalid_target');

    const { back, verifier } = await authorize(resource);
    const tr = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: { authorization: basic },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
    });
    const t = (await tr.json()) as TokenResponse;
    assert.equal(tr.status, 200, JSON.stringify(t));
    assert.equal(decodeJwt(t.access_token!).aud, resource);
  } finally {
    await idp.close();
  }
});
