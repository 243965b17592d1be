/**
 * The contract every `SessionStore` keeps (SPEC §5): a saved session loads back, a deleted one is
 * gone for good, and a front-/back-channel subject ends every matching session. Ticket stores (Redis
 * and its in-memory stand-in) also write updates conditionally. Shared by the integration test of
 * the real stores (test/integration/store-contract.test.ts) and the unit test of the memory store.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Session } from '../session/session';
import type { SessionStore } from '../session/store';

const HOUR = 3_600_000;

export function newSession(over: Partial<Session> = {}): Session {
  const now = Date.now();
  return {
    id: randomUUID(),
    createdAt: now - 1,
    endsAt: now + HOUR,
    lastSeenAt: now,
    sid: `sid-${randomUUID()}`,
    sub: `user-${randomUUID()}`,
    user: { name: 'Alice' },
    tokens: { accessToken: `at-${randomUUID()}`, refreshToken: `rt-${randomUUID()}`, idToken: 'id', expiresAt: now + 300_000, refreshedAt: now },
    ...over,
  };
}

export function storeContract(kind: string, create: () => Promise<SessionStore>) {
  describe(`${kind} store contract`, () => {
    test('a saved session loads back unchanged', async () => {
      const store = await create();
      const session = newSession();
      const payload = await store.create(session);
      assert.deepEqual(await store.load(payload), session);
    });

    test('saving again keeps the same cookie payload kind and returns the new data', async () => {
      const store = await create();
      const session = newSession();
      const first = await store.create(session);
      const updated = { ...session, tokens: { ...session.tokens, accessToken: 'at-new', refreshedAt: Date.now() + 1 } };
      const second = await store.update(updated, first);
      assert.ok(second);
      assert.equal(second.t, first.t);
      assert.equal((await store.load(second))?.tokens.accessToken, 'at-new');
    });

    test('a deleted session is gone, also for a replayed payload', async () => {
      const store = await create();
      const session = newSession();
      const payload = await store.create(session);
      await store.delete(payload);
      assert.equal(await store.load(payload), null);
    });

    test('an update after the session was deleted writes nothing and does not bring it back', async () => {
      const store = await create();
      const session = newSession();
      const payload = await store.create(session);
      await store.delete(payload);
      assert.equal(await store.update({ ...session, lastSeenAt: session.lastSeenAt + 1 }, payload), null);
      assert.equal(await store.load(payload), null);
    });

    test('an update after a logout by sid writes nothing', async () => {
      const store = await create();
      const session = newSession();
      const payload = await store.create(session);
      await store.deleteBySubject({ sid: session.sid, verified: true });
      const refreshed = { ...session, tokens: { ...session.tokens, accessToken: 'at-late', refreshedAt: Date.now() + 5 } };
      assert.equal(await store.update(refreshed, payload), null);
      assert.equal(await store.load(payload), null);
    });

    test('deleting by sid ends every session of that IdP session and no other', async () => {
      const store = await create();
      const sid = `sid-${randomUUID()}`;
      const a = newSession({ sid });
      const b = newSession({ sid });
      const other = newSession();
      const [pa, pb, po] = [await store.create(a), await store.create(b), await store.create(other)];
      assert.ok((await store.deleteBySubject({ sid, verified: true })) >= 1);
      assert.equal(await store.load(pa), null);
      assert.equal(await store.load(pb), null);
      assert.deepEqual(await store.load(po), other);
    });

    test('deleting by sub ends that user\'s sessions', async () => {
      const store = await create();
      const a = newSession();
      const pa = await store.create(a);
      await store.deleteBySubject({ sub: a.sub, verified: true });
      assert.equal(await store.load(pa), null);
    });
  });
}

/** A ticket store writes an update only while the session exists and holds no newer tokens. */
export function conditionalUpdateContract(kind: string, create: () => Promise<SessionStore>) {
  describe(`${kind} store: updates are conditional`, () => {
  test('a touch carrying older tokens does not overwrite a newer refresh (another replica)', async () => {
    const store = await create();
    const session = newSession();
    const payload = await store.create(session);
    const refreshed = { ...session, tokens: { ...session.tokens, accessToken: 'at-new', refreshedAt: session.tokens.refreshedAt + 1000 } };
    assert.ok(await store.update(refreshed, payload));
    const staleTouch = { ...session, lastSeenAt: session.lastSeenAt + 2000 };
    assert.equal(await store.update(staleTouch, payload), null);
    assert.equal((await store.load(payload))?.tokens.accessToken, 'at-new');
  });
  });
}
