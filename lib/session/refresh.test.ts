/**
 * The refresher's lock loop (SPEC §5) across "replicas": Refreshers of their own over one
 * in-memory Redis stand-in. One grant per session at a time, a waiter adopts its peer's tokens,
 * a crashed peer's lock lapses, Redis down or an IdP failure keep the tokens, `invalid_grant` ends
 * the session, and a logout during the grant stays a logout.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventually } from '../../test/harness/wait';
import type { RelyingPartyGatehouse } from '../gatehouse';
import { cookieNames, type SetCookie } from '../http/cookies';
import { metrics } from '../metrics';
import { memoryRuntime, type MemoryRuntime } from '../testing/memory-runtime';
import { counterValue } from '../testing/metrics';
import { ScriptedGrant } from '../testing/scripted-grant';
import type { CookieJar } from '../testing/cookie-jar';
import { LOCK_TTL_MS } from './redis-store';
import { WAIT_FOR_PEER_MS } from './refresh';

/** A stored session past its refresh cooldown, as one replica reads it from the browser's cookie. */
async function setUp() {
  const rt = await memoryRuntime();
  const { session, jar } = await rt.signIn();
  rt.clock.advance(61_000);
  return { rt, session, jar };
}

async function refreshOn(gh: RelyingPartyGatehouse, rt: MemoryRuntime, jar: CookieJar) {
  const ctx = rt.request('/api', { jar });
  const lookup = await gh.sessions.lookup(ctx.cookies, ctx.now);
  assert.equal(lookup.state, 'found');
  if (lookup.state !== 'found') throw new Error('unreachable');
  return gh.relyingParty.refresher.refresh(lookup.session, lookup.payload, ctx.cookies, ctx.scope);
}

const sessionCleared = (rt: MemoryRuntime, setCookies: SetCookie[]) =>
  setCookies.some((c) => c.name === cookieNames(rt.config.cookiePrefix).session && c.value === '' && c.maxAge === 0);

describe('Refresher: one grant per session across replicas', () => {
  test('two replicas refreshing one session at the same moment make exactly one grant and agree on its tokens', async () => {
    const { rt, session, jar } = await setUp();
    const [ga, gb] = [new ScriptedGrant(rt.clock, 'a'), new ScriptedGrant(rt.clock, 'b')];
    const [a, b] = [rt.replica(ga.grant), rt.replica(gb.grant)];
    const outcomes = await Promise.all([refreshOn(a, rt, jar), refreshOn(b, rt, jar)]);
    assert.equal(ga.calls + gb.calls, 1);
    assert.deepEqual(outcomes.map((o) => o.status).sort(), ['refreshed', 'unchanged']);
    const tokens = outcomes.map((o) => (o.status === 'ended' ? null : o.session.tokens.accessToken));
    assert.equal(tokens[0], tokens[1]);
    assert.notEqual(tokens[0], session.tokens.accessToken);
    assert.equal(rt.store!.peek(session.id)?.tokens.accessToken, tokens[0]);
  });

  test('concurrent requests in one replica share one grant (no second trip to the lock)', async () => {
    const { rt, jar } = await setUp();
    const g = new ScriptedGrant(rt.clock);
    const gh = rt.replica(g.grant);
    const ctx = rt.request('/api', { jar });
    const lookup = await gh.sessions.lookup(ctx.cookies, ctx.now);
    assert.equal(lookup.state, 'found');
    if (lookup.state !== 'found') return;
    const locks = rt.store!.count('lock');
    const outcomes = await Promise.all([1, 2, 3].map(() => gh.relyingParty.refresher.refresh(lookup.session, lookup.payload, ctx.cookies, ctx.scope)));
    assert.equal(g.calls, 1);
    assert.equal(rt.store!.count('lock'), locks + 1);
    assert.deepEqual(outcomes.map((o) => o.status), ['refreshed', 'refreshed', 'refreshed']);
  });

  test('a peer holding the lock, then finishing: the waiter adopts its tokens without a grant', async () => {
    const { rt, session, jar } = await setUp();
    const [gPeer, gWaiter] = [new ScriptedGrant(rt.clock, 'peer'), new ScriptedGrant(rt.clock, 'waiter')];
    const [peer, waiter] = [rt.replica(gPeer.grant), rt.replica(gWaiter.grant)];
    gPeer.hold();
    const peerDone = refreshOn(peer, rt, jar);
    await eventually('the peer to be inside its grant', 2_000, () => gPeer.waiting === 1, { minDelayMs: 1 });
    assert.notEqual(rt.store!.lockHolder(session.id), null);
    const locksBefore = rt.store!.count('lock');
    const waiterDone = refreshOn(waiter, rt, jar);
    await eventually('the waiter to find the lock taken', 2_000, () => rt.store!.count('lock') > locksBefore, { minDelayMs: 1 });
    gPeer.release();
    const [p, w] = await Promise.all([peerDone, waiterDone]);
    assert.equal(p.status, 'refreshed');
    assert.equal(w.status, 'unchanged');
    assert.equal(w.status === 'unchanged' && w.session.tokens.accessToken, 'at-peer-1');
    assert.equal(gWaiter.calls, 0);
    assert.equal(rt.store!.lockHolder(session.id), null, 'the peer released its lock');
  });

  test('a lock left by a crashed peer: the waiter gives up at its deadline keeping its tokens, and refreshes once the lock lapsed', async () => {
    const { rt, session, jar } = await setUp();
    assert.equal(await rt.store!.refreshLock(session.id).tryAcquire(), true); // the peer crashes holding it
    const g = new ScriptedGrant(rt.clock);
    const waiter = rt.replica(g.grant);
    const locksBefore = rt.store!.count('lock');
    const waiting = refreshOn(waiter, rt, jar);
    await eventually('the waiter to find the lock taken', 2_000, () => rt.store!.count('lock') > locksBefore, { minDelayMs: 1 });
    rt.clock.advance(WAIT_FOR_PEER_MS);
    const gaveUp = await waiting;
    assert.equal(gaveUp.status, 'unchanged');
    assert.equal(gaveUp.status === 'unchanged' && gaveUp.session.tokens.accessToken, session.tokens.accessToken);
    assert.equal(g.calls, 0);

    rt.clock.advance(LOCK_TTL_MS - WAIT_FOR_PEER_MS);
    const later = await refreshOn(waiter, rt, jar);
    assert.equal(later.status, 'refreshed');
    assert.equal(g.calls, 1);
    assert.equal(rt.store!.peek(session.id)?.tokens.accessToken, 'at-grant-1');
  });

  test('Redis down: no grant, the current tokens are kept, counted as store_unavailable', async () => {
    const { rt, session, jar } = await setUp();
    const g = new ScriptedGrant(rt.clock);
    const gh = rt.replica(g.grant);
    const ctx = rt.request('/api', { jar });
    const lookup = await gh.sessions.lookup(ctx.cookies, ctx.now);
    assert.equal(lookup.state, 'found');
    if (lookup.state !== 'found') return;
    const before = await counterValue(metrics.refreshes, { outcome: 'store_unavailable' });
    rt.store!.mode = 'down';
    const outcome = await gh.relyingParty.refresher.refresh(lookup.session, lookup.payload, ctx.cookies, ctx.scope);
    assert.equal(outcome.status, 'unchanged');
    assert.equal(outcome.status === 'unchanged' && outcome.session.tokens.accessToken, session.tokens.accessToken);
    assert.deepEqual(outcome.setCookies, []);
    assert.equal(g.calls, 0);
    assert.equal(await counterValue(metrics.refreshes, { outcome: 'store_unavailable' }), before + 1);
    rt.store!.mode = 'up';
    assert.equal(rt.store!.peek(session.id)?.tokens.accessToken, session.tokens.accessToken);
  });

  test('Redis down after the grant: the new tokens serve this request, the stored ones stay', async () => {
    const { rt, session, jar } = await setUp();
    const g = new ScriptedGrant(rt.clock);
    g.hold();
    const pending = refreshOn(rt.replica(g.grant), rt, jar);
    await eventually('the grant to start', 2_000, () => g.waiting === 1, { minDelayMs: 1 });
    rt.store!.mode = 'down';
    g.release();
    const outcome = await pending;
    assert.equal(outcome.status, 'refreshed');
    assert.equal(outcome.status === 'refreshed' && outcome.session.tokens.accessToken, 'at-grant-1');
    rt.store!.mode = 'up';
    assert.equal(rt.store!.peek(session.id)?.tokens.accessToken, session.tokens.accessToken);
  });
});

describe('Refresher: what the IdP answers', () => {
  test('rejected (invalid_grant): the session ends in the store and its cookie is cleared', async () => {
    const { rt, session, jar } = await setUp();
    const g = new ScriptedGrant(rt.clock);
    g.answer = 'rejected';
    const before = await counterValue(metrics.refreshes, { outcome: 'rejected' });
    const outcome = await refreshOn(rt.replica(g.grant), rt, jar);
    assert.equal(outcome.status, 'ended');
    assert.ok(sessionCleared(rt, outcome.setCookies), JSON.stringify(outcome.setCookies));
    assert.equal(rt.store!.peek(session.id), null);
    assert.equal(await counterValue(metrics.refreshes, { outcome: 'rejected' }), before + 1);
  });

  test('unavailable: the tokens are kept and nothing is written', async () => {
    const { rt, session, jar } = await setUp();
    const g = new ScriptedGrant(rt.clock);
    g.answer = 'unavailable';
    const updates = rt.store!.count('update');
    const outcome = await refreshOn(rt.replica(g.grant), rt, jar);
    assert.equal(outcome.status, 'unchanged');
    assert.equal(outcome.status === 'unchanged' && outcome.session.tokens.accessToken, session.tokens.accessToken);
    assert.equal(rt.store!.count('update'), updates);
    assert.ok(rt.store!.peek(session.id));
  });

  test('a logout during the grant: the session stays ended and the cookie is cleared', async () => {
    const { rt, session, jar } = await setUp();
    const g = new ScriptedGrant(rt.clock);
    const gh = rt.replica(g.grant);
    g.hold();
    const pending = refreshOn(gh, rt, jar);
    await eventually('the grant to start', 2_000, () => g.waiting === 1, { minDelayMs: 1 });
    const other = rt.request('/oauth2/logout/local', { jar });
    await rt.gh.relyingParty.sessions.end(await rt.gh.sessions.lookup(other.cookies, other.now), other.cookies, other.scope);
    g.release();
    const outcome = await pending;
    assert.equal(outcome.status, 'ended');
    assert.ok(sessionCleared(rt, outcome.setCookies));
    assert.equal(rt.store!.peek(session.id), null, 'the refresh did not bring the session back');
  });

  test('newer tokens stored meanwhile (a replica whose lock had lapsed): they win over ours', async () => {
    const { rt, session, jar } = await setUp();
    const g = new ScriptedGrant(rt.clock);
    g.hold();
    const pending = refreshOn(rt.replica(g.grant), rt, jar);
    await eventually('the grant to start', 2_000, () => g.waiting === 1, { minDelayMs: 1 });
    const stored = rt.store!.peek(session.id)!;
    const lookup = await rt.gh.sessions.lookup(jar.cookies, rt.clock.now());
    assert.equal(lookup.state, 'found');
    if (lookup.state !== 'found') return;
    // Stored a moment after our grant's answer will be dated: ours are the older tokens.
    const newer = { ...stored, tokens: { ...stored.tokens, accessToken: 'at-other-replica', refreshedAt: rt.clock.now() + 1 } };
    assert.ok(await rt.store!.update(newer, lookup.payload));
    g.release();
    const outcome = await pending;
    assert.equal(outcome.status, 'unchanged');
    assert.equal(outcome.status === 'unchanged' && outcome.session.tokens.accessToken, 'at-other-replica');
    assert.equal(rt.store!.peek(session.id)?.tokens.accessToken, 'at-other-replica');
  });
});
