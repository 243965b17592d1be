// Token endpoint client authentication (SPEC §2 `OIDC_CLIENT_AUTH_METHOD`, `OIDC_CLIENT_JWK`): the
// dev IdP registers the client with exactly one method and refuses any other, so a completed login
// (code exchange) and a refresh prove Gatehouse used the configured one.
//
//   NEXT_DIST_DIR=.next-<name> node --import tsx --test test/integration/client-auth.test.ts

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { Browser, FETCH_HEADERS, loginViaIdp } from '../harness/http';
import { startStack, type Stack } from '../harness/stack';
import { eventually } from '../harness/wait';

/** Logs in, waits out the refresh cooldown (half of a 4 s token's life), refreshes once. */
async function loginAndRefresh(stack: Stack) {
  const browser = new Browser();
  await loginViaIdp(browser, stack.appUrl, { redirect: '/api/whoami' });
  assert.match(String(stack.upstream.last('/whoami')?.headers.authorization), /^Bearer \S+$/);
  assert.equal(stack.idp.grants.authorizationCodeGrants, 1);
  await eventually('the refresh cooldown to end', 10_000, async () => {
    const res = await browser.get(`${stack.appUrl}/oauth2/session`, { headers: FETCH_HEADERS });
    const body = (await res.json()) as { tokens: { refresh_cooldown: boolean } };
    return body.tokens.refresh_cooldown ? undefined : true;
  });
  const refreshed = await browser.request(`${stack.appUrl}/oauth2/session/refresh`, { method: 'POST', headers: FETCH_HEADERS });
  await refreshed.body?.cancel();
  assert.equal(refreshed.status, 200);
  assert.equal(stack.idp.grants.refreshGrants, 1, 'the refresh grant authenticated with the same method');
  assert.equal(stack.idp.grants.refreshGrantErrors + stack.idp.grants.authorizationCodeGrantErrors, 0);
}

describe('client authentication at the token endpoint', () => {
  const stacks: Stack[] = [];
  after(() => Promise.all(stacks.map((s) => s.close())));

  test('client_secret_post', async () => {
    const stack = await startStack({ client: { tokenEndpointAuthMethod: 'client_secret_post' }, idp: { accessTokenTtlSeconds: 4 } });
    stacks.push(stack);
    assert.equal(stack.env.OIDC_CLIENT_AUTH_METHOD, 'client_secret_post');
    await loginAndRefresh(stack);
  });

  test('private_key_jwt with OIDC_CLIENT_JWK (no secret at all)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = 'gatehouse-test-key';
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
    const stack = await startStack({
      client: { tokenEndpointAuthMethod: 'private_key_jwt', clientSecret: undefined, jwks: { keys: [publicJwk] } },
      env: { OIDC_CLIENT_JWK: JSON.stringify(privateJwk) },
      idp: { accessTokenTtlSeconds: 4 },
    });
    stacks.push(stack);
    assert.equal(stack.env.OIDC_CLIENT_SECRET, undefined, 'no client secret configured');
    await loginAndRefresh(stack);
  });
});
