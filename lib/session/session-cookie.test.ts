import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { parseCookies, serializeSetCookie, type CookieScope, type SetCookie } from '../http/cookies';
import { seal } from '../seal';
import { clearSessionCookie, MAX_CHUNKS, readSessionCookie, writeSessionCookie } from './session-cookie';
import type { Session } from './session';
import type { CookiePayload } from './store';

const SECRETS = ['s'.repeat(32)];
const TTL = 3_600;
const scope: CookieScope = { prefix: 'gatehouse', path: '/', secure: true };
const T0 = Date.UTC(2025, 0, 1);

/** Random text does not compress, so its size is what the cookie has to carry. */
const noise = (chars: number) => randomBytes(Math.ceil((chars * 3) / 4)).toString('base64url').slice(0, chars);

function inline(tokenChars: number): CookiePayload {
  const session: Session = {
    id: 'id-1',
    createdAt: T0,
    endsAt: T0 + 36_000_000,
    lastSeenAt: T0,
    sub: 'alice',
    user: {},
    tokens: { accessToken: noise(tokenChars), idToken: 'id', refreshToken: 'rt', expiresAt: T0 + 3_600_000, refreshedAt: T0 },
  };
  return { t: 'inline', s: session };
}

/** What the browser would send back after storing these cookies. */
function jarFrom(setCookies: SetCookie[], previous = new Map<string, string>()): Map<string, string> {
  const jar = new Map(previous);
  for (const c of setCookies) {
    if (c.maxAge === 0) jar.delete(c.name);
    else jar.set(c.name, c.value);
  }
  return jar;
}

const isExpired = (c: SetCookie) => c.maxAge === 0;
const names = (setCookies: SetCookie[]) => setCookies.map((c) => c.name);
const expired = (setCookies: SetCookie[]) => names(setCookies.filter(isExpired));

/** Counts lookups, to show how much of a request's cookies the reader touches. */
class CountingMap extends Map<string, string> {
  lookups = 0;
  override get(key: string) {
    this.lookups++;
    return super.get(key);
  }
}

describe('session cookie', () => {
  test('a small session is one cookie and reads back', async () => {
    const payload: CookiePayload = { t: 'ticket', id: 'abc', key: 'k'.repeat(43) };
    const cookies = await writeSessionCookie(payload, new Map(), scope, SECRETS, TTL);
    assert.deepEqual(names(cookies), ['gatehouse.session']);
    assert.match(serializeSetCookie(cookies[0]), /; Path=\/; HttpOnly; SameSite=Lax; Secure; Max-Age=3600$/);
    assert.deepEqual(await readSessionCookie(jarFrom(cookies), 'gatehouse', SECRETS, TTL), payload);
  });

  test('a big inline session splits into numbered chunks that each fit a browser cookie, and reads back', async () => {
    const payload = inline(9_000);
    const cookies = await writeSessionCookie(payload, new Map(), scope, SECRETS, TTL);
    assert.ok(cookies.length >= 3, `${cookies.length} chunks`);
    assert.deepEqual(names(cookies), ['gatehouse.session', ...cookies.slice(1).map((_, i) => `gatehouse.session.${i + 1}`)]);
    for (const header of cookies.map(serializeSetCookie)) assert.ok(Buffer.byteLength(header) <= 4_096, `${Buffer.byteLength(header)} bytes`);
    assert.deepEqual(await readSessionCookie(jarFrom(cookies), 'gatehouse', SECRETS, TTL), payload);
  });

  test('chunks read back through a real Cookie header', async () => {
    const payload = inline(9_000);
    const cookies = await writeSessionCookie(payload, new Map(), scope, SECRETS, TTL);
    const cookieHeader = ['theme=dark', ...[...jarFrom(cookies)].map(([n, v]) => `${n}=${v}`), 'lang=nb'].join('; ');
    assert.deepEqual(await readSessionCookie(parseCookies(cookieHeader), 'gatehouse', SECRETS, TTL), payload);
  });

  test('stale chunks from a longer previous value are expired', async () => {
    const big = await writeSessionCookie(inline(15_000), new Map(), scope, SECRETS, TTL);
    assert.ok(big.length >= 4, `${big.length} chunks`);
    const browser = jarFrom(big);

    const smallPayload = inline(4_000);
    const small = await writeSessionCookie(smallPayload, browser, scope, SECRETS, TTL);
    const written = small.filter((c) => !isExpired(c));
    assert.equal(written.length, 2);
    assert.deepEqual(expired(small), big.slice(2).map((_, i) => `gatehouse.session.${i + 2}`));
    for (const c of small.filter(isExpired)) assert.match(serializeSetCookie(c), /; Path=\/; .*Expires=Thu, 01 Jan 1970/);

    const after = jarFrom(small, browser);
    assert.deepEqual([...after.keys()].sort(), ['gatehouse.session', 'gatehouse.session.1']);
    assert.deepEqual(await readSessionCookie(after, 'gatehouse', SECRETS, TTL), smallPayload);
  });

  test('going back to one cookie expires every previous chunk', async () => {
    const browser = jarFrom(await writeSessionCookie(inline(9_000), new Map(), scope, SECRETS, TTL));
    const cookies = await writeSessionCookie({ t: 'ticket', id: 'x', key: 'y' }, browser, scope, SECRETS, TTL);
    assert.deepEqual(names(cookies.filter((c) => !isExpired(c))), ['gatehouse.session']);
    assert.deepEqual(expired(cookies), [...browser.keys()].filter((n) => n !== 'gatehouse.session'));
    assert.deepEqual(await readSessionCookie(jarFrom(cookies, browser), 'gatehouse', SECRETS, TTL), { t: 'ticket', id: 'x', key: 'y' });
  });

  test('more than MAX_CHUNKS present: only MAX_CHUNKS are read, and the session still reads', async () => {
    const payload = inline(9_000);
    const jar = new CountingMap(jarFrom(await writeSessionCookie(payload, new Map(), scope, SECRETS, TTL)));
    // Chunks after the real end are never looked at because the real chunks stop at a gap…
    const chunks = jar.size;
    for (let n = chunks + 1; n < 5_000; n++) jar.set(`gatehouse.session.${n}`, 'x'.repeat(100));
    jar.lookups = 0;
    assert.deepEqual(await readSessionCookie(jar, 'gatehouse', SECRETS, TTL), payload);
    assert.ok(jar.lookups <= MAX_CHUNKS, `${jar.lookups} lookups`);
  });

  test('thousands of contiguous chunks after a real session: bounded work, the right session or none', async () => {
    const payload = inline(9_000);
    const real = jarFrom(await writeSessionCookie(payload, new Map(), scope, SECRETS, TTL));
    const jar = new CountingMap(real);
    for (let n = real.size; n < 5_000; n++) jar.set(`gatehouse.session.${n}`, 'x'.repeat(3_800));
    jar.lookups = 0;
    const got = await readSessionCookie(jar, 'gatehouse', SECRETS, TTL);
    if (got !== null) assert.deepEqual(got, payload);
    assert.equal(jar.lookups, MAX_CHUNKS);
  });

  test('thousands of junk chunks and no real session: bounded work, no session', async () => {
    const jar = new CountingMap([['gatehouse.session', 'Fe26.2*1*junk']]);
    for (let n = 1; n < 5_000; n++) jar.set(`gatehouse.session.${n}`, 'x'.repeat(3_800));
    const started = performance.now();
    assert.equal(await readSessionCookie(jar, 'gatehouse', SECRETS, TTL), null);
    assert.equal(jar.lookups, MAX_CHUNKS);
    assert.ok(performance.now() - started < 1_000);
  });

  test('a session that fills exactly MAX_CHUNKS ignores a chunk beyond the bound', async () => {
    // Find a token size that needs exactly MAX_CHUNKS chunks.
    let payload: CookiePayload | null = null;
    let cookies: SetCookie[] = [];
    for (let chars = 18_000; chars < 30_000; chars += 500) {
      const candidate = inline(chars);
      cookies = await writeSessionCookie(candidate, new Map(), scope, SECRETS, TTL);
      if (cookies.length === MAX_CHUNKS) {
        payload = candidate;
        break;
      }
    }
    assert.ok(payload, 'a payload of exactly MAX_CHUNKS chunks');
    const jar = jarFrom(cookies);
    jar.set(`gatehouse.session.${MAX_CHUNKS}`, 'garbage');
    assert.deepEqual(await readSessionCookie(jar, 'gatehouse', SECRETS, TTL), payload);
  });

  test('a tampered chunk reads as no session', async () => {
    const jar = jarFrom(await writeSessionCookie(inline(9_000), new Map(), scope, SECRETS, TTL));
    const chunk = jar.get('gatehouse.session.1')!;
    const i = Math.floor(chunk.length / 2);
    jar.set('gatehouse.session.1', chunk.slice(0, i) + (chunk[i] === 'A' ? 'B' : 'A') + chunk.slice(i + 1));
    assert.equal(await readSessionCookie(jar, 'gatehouse', SECRETS, TTL), null);
  });

  test('a missing, reordered or foreign chunk reads as no session', async () => {
    const good = jarFrom(await writeSessionCookie(inline(9_000), new Map(), scope, SECRETS, TTL));
    const missing = new Map(good);
    missing.delete('gatehouse.session.1');
    assert.equal(await readSessionCookie(missing, 'gatehouse', SECRETS, TTL), null);

    const swapped = new Map(good);
    swapped.set('gatehouse.session.1', good.get('gatehouse.session.2')!);
    swapped.set('gatehouse.session.2', good.get('gatehouse.session.1')!);
    assert.equal(await readSessionCookie(swapped, 'gatehouse', SECRETS, TTL), null);

    const other = jarFrom(await writeSessionCookie(inline(9_000), new Map(), scope, SECRETS, TTL));
    const mixed = new Map(good);
    mixed.set('gatehouse.session.1', other.get('gatehouse.session.1')!);
    assert.equal(await readSessionCookie(mixed, 'gatehouse', SECRETS, TTL), null);
  });

  test('no cookie, another prefix, another secret, or another purpose: no session', async () => {
    const payload = inline(100);
    const jar = jarFrom(await writeSessionCookie(payload, new Map(), scope, SECRETS, TTL));
    assert.equal(await readSessionCookie(new Map(), 'gatehouse', SECRETS, TTL), null);
    assert.equal(await readSessionCookie(jar, 'other', SECRETS, TTL), null);
    assert.equal(await readSessionCookie(jar, 'gatehouse', ['t'.repeat(32)], TTL), null);
    const login = new Map([['gatehouse.session', await seal('login', payload, SECRETS, TTL)]]);
    assert.equal(await readSessionCookie(login, 'gatehouse', SECRETS, TTL), null);
    const notAPayload = new Map([['gatehouse.session', await seal('session', { t: 'other' }, SECRETS, TTL)]]);
    assert.equal(await readSessionCookie(notAPayload, 'gatehouse', SECRETS, TTL), null);
  });

  test('a payload needing more than MAX_CHUNKS throws', async () => {
    await assert.rejects(writeSessionCookie(inline(40_000), new Map(), scope, SECRETS, TTL), /chunks/);
  });

  test('clearSessionCookie expires the session and every chunk present, scoped to the ingress path', async () => {
    const appScope: CookieScope = { prefix: 'gh', path: '/app', secure: false };
    const jar = jarFrom(await writeSessionCookie(inline(9_000), new Map(), appScope, SECRETS, TTL));
    jar.set('other', 'x');
    const cookies = clearSessionCookie(jar, appScope);
    assert.deepEqual(names(cookies), [...jar.keys()].filter((n) => n.startsWith('gh.session')));
    for (const header of cookies.map(serializeSetCookie)) {
      assert.match(header, /^gh\.session(\.\d+)?=; Path=\/app; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT$/);
    }
  });
});
