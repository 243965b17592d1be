import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CookieSessionStore } from './cookie-store';
import type { Session } from './session';
import type { LogoutSubject } from './store';

const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;
const MAX_LIFETIME = 10 * HOUR;

function makeSession(over: Partial<Session> = {}): Session {
  const createdAt = over.createdAt ?? T0;
  return {
    id: 'id-1',
    createdAt,
    endsAt: createdAt + MAX_LIFETIME,
    lastSeenAt: createdAt,
    sid: 'sid-1',
    sub: 'alice',
    user: {},
    tokens: { accessToken: 'at', expiresAt: createdAt + HOUR, refreshedAt: createdAt },
    ...over,
  };
}

/** A store whose clock the test moves. */
function storeAt(start: number) {
  const clock = { now: start };
  const store = new CookieSessionStore(MAX_LIFETIME, () => clock.now);
  const load = async (s: Session) => store.load(await store.create(s));
  return { clock, store, load };
}

describe('CookieSessionStore', () => {
  test('create puts the whole session in the payload, load gives it back', async () => {
    const { store } = storeAt(T0);
    const s = makeSession();
    const payload = await store.create(s);
    assert.deepEqual(payload, { t: 'inline', s });
    assert.deepEqual(await store.load(payload), s);
  });

  test('a Redis ticket is not this store\'s', async () => {
    const { store } = storeAt(T0);
    assert.equal(await store.load({ t: 'ticket', id: 'x', key: 'y' }), null);
  });

  test('delete revokes that session id only', async () => {
    const { clock, store, load } = storeAt(T0);
    const s = makeSession();
    clock.now = T0 + HOUR;
    await store.delete({ t: 'inline', s });
    assert.equal(await load(s), null, 'replayed cookie');
    assert.notEqual(await load(makeSession({ id: 'id-2' })), null, 'another session of the same user');
  });

  test('a revoked id stays revoked until the session would have ended, then is forgotten', async () => {
    const { clock, store, load } = storeAt(T0);
    const s = makeSession();
    await store.delete({ t: 'inline', s });
    clock.now = s.endsAt - 1;
    assert.equal(await load(s), null);
    clock.now = s.endsAt;
    assert.deepEqual(await load(s), s);
  });

  const subjects: { name: string; subject: LogoutSubject; session: Partial<Session>; revoked: boolean }[] = [
    { name: 'by sid: same sid', subject: { sid: 'sid-1', verified: true }, session: {}, revoked: true },
    { name: 'by sid: other sid', subject: { sid: 'sid-2', verified: true }, session: {}, revoked: false },
    { name: 'by sid: session without sid', subject: { sid: 'sid-1', verified: true }, session: { sid: undefined }, revoked: false },
    { name: 'by sub: same sub', subject: { sub: 'alice', verified: true }, session: {}, revoked: true },
    { name: 'by sub: same sub, other sid', subject: { sub: 'alice', verified: true }, session: { sid: 'sid-9' }, revoked: true },
    { name: 'by sub: other sub', subject: { sub: 'bob', verified: true }, session: {}, revoked: false },
    { name: 'sid and sub: either matches', subject: { sid: 'sid-x', sub: 'alice', verified: true }, session: {}, revoked: true },
  ];
  for (const c of subjects) {
    test(`deleteBySubject ${c.name}`, async () => {
      const { clock, store, load } = storeAt(T0);
      const s = makeSession(c.session);
      clock.now = T0 + HOUR;
      await store.deleteBySubject(c.subject);
      assert.equal((await load(s)) === null, c.revoked);
    });
  }

  test('revocation applies only to sessions created before it', async () => {
    const { clock, store, load } = storeAt(T0);
    const before = makeSession({ id: 'before', createdAt: T0 });
    clock.now = T0 + HOUR;
    await store.deleteBySubject({ sid: 'sid-1', sub: 'alice', verified: true });
    const after = makeSession({ id: 'after', createdAt: T0 + HOUR + 1 });
    clock.now = T0 + 2 * HOUR;
    assert.equal(await load(before), null);
    assert.deepEqual(await load(after), after, 'a new login with the same sub and sid is not revoked');
  });

  test('a deleted id does not block a later session that reuses it', async () => {
    const { clock, store, load } = storeAt(T0);
    await store.delete({ t: 'inline', s: makeSession({ id: 'same' }) });
    clock.now = T0 + 1;
    const later = makeSession({ id: 'same', createdAt: T0 + 1 });
    assert.deepEqual(await load(later), later);
  });

  test('subject revocations expire after the maximum session lifetime', async () => {
    const { clock, store, load } = storeAt(T0);
    const s = makeSession();
    clock.now = T0 + HOUR;
    await store.deleteBySubject({ sub: 'alice', verified: true });
    clock.now = T0 + HOUR + MAX_LIFETIME - 1;
    assert.equal(await load(s), null);
    clock.now = T0 + HOUR + MAX_LIFETIME;
    assert.deepEqual(await load(s), s);
  });

  test('deleteBySubject reports whether anything was recorded', async () => {
    const { store } = storeAt(T0);
    assert.equal(await store.deleteBySubject({ verified: false }), 0);
    assert.equal(await store.deleteBySubject({ sid: 'x', verified: false }), 1);
  });

  test('revocation is per store instance (per process)', async () => {
    const a = storeAt(T0);
    const b = storeAt(T0);
    const s = makeSession();
    await a.store.delete({ t: 'inline', s });
    assert.equal(await a.load(s), null);
    assert.deepEqual(await b.load(s), s);
  });

  test('an update of a revoked session writes nothing (a refresh in flight at logout)', async () => {
    const { store } = storeAt(T0);
    const s = makeSession();
    const payload = await store.create(s);
    await store.delete(payload);
    assert.equal(await store.update({ ...s, lastSeenAt: T0 + 5 }), null);
  });

  test('a flood of unproven front-channel sids cannot evict a real logout', async () => {
    const limits = { proven: 100, unproven: 50, known: 100 };
    const clock = { now: T0 };
    const store = new CookieSessionStore(MAX_LIFETIME, () => clock.now, limits);
    const own = makeSession({ id: 'own-logout', sid: 'sid-own' });
    const viaFrontChannel = makeSession({ id: 'front', sid: 'sid-seen' });
    const viaToken = makeSession({ id: 'token', sid: 'sid-token', sub: 'carol' });
    assert.ok(await store.load(await store.create(viaFrontChannel)), 'served once: its sid is known');
    clock.now = T0 + 1;
    await store.delete({ t: 'inline', s: own });
    await store.deleteBySubject({ sid: 'sid-seen', verified: false });
    await store.deleteBySubject({ sid: 'sid-token', verified: true });
    for (let i = 0; i < 10_000; i++) await store.deleteBySubject({ sid: `flood-${i}`, verified: false });
    const sizes = store.revocations.sizes;
    assert.ok(sizes.unproven <= limits.unproven && sizes.proven <= limits.proven, JSON.stringify(sizes));
    for (const s of [own, viaFrontChannel, viaToken]) assert.equal(await store.load({ t: 'inline', s }), null, s.id);
  });
});
