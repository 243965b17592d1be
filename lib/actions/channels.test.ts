/**
 * IdP-initiated logout (SPEC §3) through the in-memory runtime: back-channel logout tokens signed
 * by the fake IdP and verified with its JWKS, replay refused through the store's `firstUse`, and
 * front-channel logout by `iss` and `sid`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FakeIdp } from '../testing/fake-idp';
import { memoryRuntime, type MemoryRuntime } from '../testing/memory-runtime';
import { backChannelLogout, frontChannelLogout } from './channels';

const post = (rt: MemoryRuntime, token: string) =>
  backChannelLogout(rt.gh, rt.request('/oauth2/logout/backchannel', { method: 'POST' }), new URLSearchParams({ logout_token: token }).toString());

describe('back-channel logout', () => {
  test('a signed logout token for a sid ends every session of it; a replay of the same token is refused', async () => {
    const rt = await memoryRuntime();
    const a = await rt.signIn();
    const b = await rt.signIn();
    const other = await rt.signIn({ sid: 'another-idp-session' });
    const token = await rt.idp.logoutToken({ sid: a.session.sid });
    const first = await post(rt, token);
    assert.equal(first.status, 200);
    assert.equal(rt.store!.peek(a.session.id), null);
    assert.equal(rt.store!.peek(b.session.id), null);
    assert.ok(rt.store!.peek(other.session.id), 'another IdP session is untouched');

    const replayed = await post(rt, token);
    assert.equal(replayed.status, 400);
    assert.equal(rt.store!.count('firstUse'), 2);
  });

  test('a logout token with only a sub ends that user\'s sessions', async () => {
    const rt = await memoryRuntime();
    const { session } = await rt.signIn();
    assert.equal((await post(rt, await rt.idp.logoutToken({ sub: session.sub }))).status, 200);
    assert.equal(rt.store!.peek(session.id), null);
  });

  test('a token claiming our IdP but signed with another key is refused and ends nothing', async () => {
    const rt = await memoryRuntime();
    const { session } = await rt.signIn();
    const impostor = await FakeIdp.start({ issuer: rt.idp.issuer, clientId: rt.idp.clientId });
    const response = await post(rt, await impostor.logoutToken({ sid: session.sid }));
    assert.equal(response.status, 400);
    assert.ok(rt.store!.peek(session.id));
  });

  test('a token of an issuer that is not configured is refused', async () => {
    const rt = await memoryRuntime();
    const { session } = await rt.signIn();
    const stranger = await FakeIdp.start({ clientId: rt.idp.clientId });
    assert.equal((await post(rt, await stranger.logoutToken({ sid: session.sid }))).status, 400);
    assert.ok(rt.store!.peek(session.id));
  });

  test('Redis down at the replay check: the action fails (503 at the route), and the IdP\'s retry is not taken for a replay', async () => {
    const rt = await memoryRuntime();
    const { session } = await rt.signIn();
    const token = await rt.idp.logoutToken({ sid: session.sid });
    rt.store!.mode = 'down';
    await assert.rejects(post(rt, token));
    rt.store!.mode = 'up';
    assert.equal((await post(rt, token)).status, 200);
    assert.equal(rt.store!.peek(session.id), null);
  });

  test('no logout_token: 400', async () => {
    const rt = await memoryRuntime();
    const response = await backChannelLogout(rt.gh, rt.request('/oauth2/logout/backchannel', { method: 'POST' }), '');
    assert.equal(response.status, 400);
  });
});

describe('front-channel logout', () => {
  test('iss and sid end that IdP session\'s sessions', async () => {
    const rt = await memoryRuntime();
    const { session } = await rt.signIn();
    const response = await frontChannelLogout(rt.gh, rt.request(`/oauth2/logout/frontchannel?iss=${encodeURIComponent(rt.idp.issuer)}&sid=${session.sid}`));
    assert.equal(response.status, 200);
    assert.equal(rt.store!.peek(session.id), null);
  });

  test('an iss that is not the IdP: 400, nothing ended', async () => {
    const rt = await memoryRuntime();
    const { session } = await rt.signIn();
    const response = await frontChannelLogout(rt.gh, rt.request(`/oauth2/logout/frontchannel?iss=https://evil.test&sid=${session.sid}`));
    assert.equal(response.status, 400);
    assert.ok(rt.store!.peek(session.id));
  });

  test('without a sid: 202, nothing ended', async () => {
    const rt = await memoryRuntime();
    const { session } = await rt.signIn();
    assert.equal((await frontChannelLogout(rt.gh, rt.request('/oauth2/logout/frontchannel'))).status, 202);
    assert.ok(rt.store!.peek(session.id));
  });
});
