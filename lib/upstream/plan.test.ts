import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import { loadConfig, type UpstreamRoute } from '../config';
import { readRequestPath } from '../http/request-path';
import { matchUpstream, upstreamRequestHeaders, upstreamUrl, type UpstreamRequestOptions } from './plan';

/** Routes as the config delivers them (sorted, trailing slashes trimmed). */
const routesOf = (upstreams: string) => loadConfig({ UPSTREAMS: upstreams }).upstreams;

describe('matchUpstream', () => {
  const routes = routesOf('/api=http://api:8080/v1,/apix=http://apix:9000,/api/admin=http://admin:7000/,/=http://127.0.0.1:8080');
  const noRoot = routesOf('/api=http://api:8080,/apix=http://apix:9000');
  const cases: { name: string; routes: UpstreamRoute[]; input: string; want: string | null }[] = [
    { name: 'exact prefix', routes, input: '/api', want: '/api' },
    { name: 'below the prefix', routes, input: '/api/users', want: '/api' },
    { name: '/apix is not under /api', routes, input: '/apix', want: '/apix' },
    { name: 'below /apix', routes, input: '/apix/y', want: '/apix' },
    { name: 'longest prefix wins', routes, input: '/api/admin/users', want: '/api/admin' },
    { name: 'a longer segment is not the longer prefix', routes, input: '/api/administrator', want: '/api' },
    { name: 'root route takes the rest', routes, input: '/apiy', want: '/' },
    { name: 'root route takes the root', routes, input: '/', want: '/' },
    { name: 'no root route: nothing', routes: noRoot, input: '/other', want: null },
    { name: 'no root route: not the root either', routes: noRoot, input: '/', want: null },
    { name: 'prefix match is case-sensitive', routes: noRoot, input: '/API/users', want: null },
  ];
  for (const { name, routes: r, input, want } of cases) {
    test(name, () => {
      assert.equal(matchUpstream(r, input)?.prefix ?? null, want);
    });
  }

  test('order of configuration does not matter', () => {
    for (const upstreams of ['/=http://root,/api=http://api,/api/admin=http://admin', '/api/admin=http://admin,/=http://root,/api=http://api']) {
      assert.equal(matchUpstream(routesOf(upstreams), '/api/admin/x')?.target.host, 'admin');
    }
  });
});

describe('upstreamUrl', () => {
  const route = (prefix: string, target: string): UpstreamRoute => ({ prefix, target: new URL(target) });
  const cases: { name: string; route: UpstreamRoute; path: string; search: string; want: string }[] = [
    { name: 'target /: prefix dropped', route: route('/api', 'http://api:8080/'), path: '/api/users', search: '', want: 'http://api:8080/users' },
    { name: 'target /: the prefix itself', route: route('/api', 'http://api:8080/'), path: '/api', search: '', want: 'http://api:8080/' },
    { name: 'target /: prefix with trailing slash', route: route('/api', 'http://api:8080/'), path: '/api/', search: '', want: 'http://api:8080/' },
    { name: 'target /v1: prefix replaced', route: route('/api', 'http://api:8080/v1'), path: '/api/users', search: '', want: 'http://api:8080/v1/users' },
    { name: 'target /v1/: same as /v1', route: route('/api', 'http://api:8080/v1/'), path: '/api/users', search: '', want: 'http://api:8080/v1/users' },
    { name: 'target /v1: the prefix itself becomes /v1', route: route('/api', 'http://api:8080/v1'), path: '/api', search: '', want: 'http://api:8080/v1' },
    { name: 'target /v1: trailing slash kept', route: route('/api', 'http://api:8080/v1'), path: '/api/', search: '', want: 'http://api:8080/v1/' },
    { name: 'nested path and trailing slash', route: route('/api', 'http://api:8080/v1'), path: '/api/a/b/', search: '', want: 'http://api:8080/v1/a/b/' },
    { name: 'root route: path unchanged', route: route('/', 'http://127.0.0.1:8080/'), path: '/x/y', search: '', want: 'http://127.0.0.1:8080/x/y' },
    { name: 'root route to a target path', route: route('/', 'http://127.0.0.1:8080/app'), path: '/x', search: '', want: 'http://127.0.0.1:8080/app/x' },
    { name: 'root route: root', route: route('/', 'http://127.0.0.1:8080/'), path: '/', search: '', want: 'http://127.0.0.1:8080/' },
    { name: 'query preserved', route: route('/api', 'http://api:8080/v1'), path: '/api/s', search: '?q=a%20b&x=1&x=2&e=&slash=%2F&plus=+&q2=?', want: 'http://api:8080/v1/s?q=a%20b&x=1&x=2&e=&slash=%2F&plus=+&q2=?' },
    { name: 'encoded characters in the path kept', route: route('/api', 'https://api.example/'), path: '/api/s%C3%B8k/a%20b', search: '', want: 'https://api.example/s%C3%B8k/a%20b' },
    { name: 'https target and port', route: route('/api', 'https://api.example:8443/base'), path: '/api/x', search: '?y', want: 'https://api.example:8443/base/x?y' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(upstreamUrl(c.route, c.path, c.search).href, c.want);
    });
  }

  test('the prefix is cut by meaning, not by length, when the request spells it with escapes', () => {
    // matchUpstream sees the decoded path, upstreamUrl gets the raw one: `/%61pi` is `/api`.
    const routes = routesOf('/api=http://api:8080/v1');
    const path = readRequestPath('/%61pi/users');
    assert.ok(path);
    const matched = matchUpstream(routes, path.decoded);
    assert.ok(matched);
    assert.equal(upstreamUrl(matched, path.raw, '').href, 'http://api:8080/v1/users');
  });

  test('a non-ASCII prefix is cut from the encoded path', () => {
    const routes = routesOf('/søk=http://search:8080');
    const path = readRequestPath('/s%C3%B8k/q');
    assert.ok(path);
    const matched = matchUpstream(routes, path.decoded);
    assert.ok(matched);
    assert.equal(upstreamUrl(matched, path.raw, '?x=1').href, 'http://search:8080/q?x=1');
  });
});

const ingress = new URL('https://app.example/base');
const target = new URL('http://api.internal:8080/v1');
const options = (over: Partial<UpstreamRequestOptions> = {}): UpstreamRequestOptions => ({
  accessToken: null,
  cookiePrefix: 'gatehouse',
  requestId: 'req-123',
  ingress,
  remoteAddress: '10.0.0.7',
  target,
  ...over,
});

describe('upstreamRequestHeaders', () => {
  const base: IncomingHttpHeaders = { accept: 'application/json', 'user-agent': 'test/1', host: 'app.example' };

  test('client Authorization is removed without a token and replaced with one', () => {
    for (const authorization of ['Basic dXNlcjpwYXNz', 'Bearer client-supplied', 'bearer x', '']) {
      const incoming = { ...base, authorization };
      assert.equal(upstreamRequestHeaders(incoming, options()).authorization, undefined, authorization);
      assert.equal(upstreamRequestHeaders(incoming, options({ accessToken: 'server-token' })).authorization, 'Bearer server-token', authorization);
    }
    assert.equal(upstreamRequestHeaders(base, options({ accessToken: 'server-token' })).authorization, 'Bearer server-token');
    assert.equal(upstreamRequestHeaders({ ...base, 'proxy-authorization': 'Basic x' }, options())['proxy-authorization'], undefined);
  });

  test("Gatehouse's own cookies are removed, the others kept in order", () => {
    const cookie = 'gatehouse.session=S; theme=dark; gatehouse.session.3=C3; gatehouse.login.abc=L; a=1; gatehouse.logout=O; gatehouses=x; b=2';
    assert.equal(upstreamRequestHeaders({ ...base, cookie }, options()).cookie, 'theme=dark; a=1; gatehouses=x; b=2');
  });

  test('no Cookie header when only our own cookies were sent', () => {
    const out = upstreamRequestHeaders({ ...base, cookie: 'gatehouse.session=S; gatehouse.session.1=T' }, options());
    assert.equal('cookie' in out, false);
  });

  test('a custom cookie prefix is honoured', () => {
    const out = upstreamRequestHeaders({ ...base, cookie: 'gh.session=S; gatehouse.session=keep; gh.login.x=L' }, options({ cookiePrefix: 'gh' }));
    assert.equal(out.cookie, 'gatehouse.session=keep');
  });

  test('hop-by-hop headers are dropped', () => {
    const incoming: IncomingHttpHeaders = {
      ...base,
      connection: 'keep-alive',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      trailer: 'x-checksum',
      upgrade: 'h2c',
    };
    const out = upstreamRequestHeaders(incoming, options());
    for (const name of ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']) {
      assert.equal(name in out, false, name);
    }
  });

  test('headers the client names in Connection are hop-by-hop too (RFC 9110 §7.6.1)', () => {
    const out = upstreamRequestHeaders({ ...base, connection: 'close, X-Hop-Secret', 'x-hop-secret': 'for the next hop only' }, options());
    assert.equal('x-hop-secret' in out, false);
    for (const connection of ['keep-alive, x-hop-secret', 'Keep-Alive, X-Hop-Secret', 'keep-alive,x-hop-secret']) {
      assert.equal('x-hop-secret' in upstreamRequestHeaders({ ...base, connection, 'x-hop-secret': 's' }, options()), false, connection);
    }
    assert.equal(upstreamRequestHeaders({ ...base, connection: 'keep-alive', 'x-other': 'o' }, options())['x-other'], 'o');
  });

  test('Next.js internals and Gatehouse internals are dropped', () => {
    const internals = ['x-middleware-subrequest', 'x-middleware-rewrite', 'x-middleware-set-cookie', 'x-nextjs-data', 'x-invoke-path', 'x-gatehouse-ingress', 'next-router-state-tree', 'x-now-route-matches', 'x-vercel-id'];
    const incoming: IncomingHttpHeaders = { ...base };
    for (const name of internals) incoming[name] = 'middleware:middleware:middleware';
    const out = upstreamRequestHeaders(incoming, options());
    for (const name of internals) assert.equal(name in out, false, name);
  });

  test("forwarding headers: the client's Host/Proto replaced by the ingress's, For appended", () => {
    const incoming: IncomingHttpHeaders = {
      ...base,
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'http',
      'x-forwarded-port': '1',
      'x-forwarded-prefix': '/admin',
      forwarded: 'for=1.2.3.4;host=evil.example;proto=http',
      'x-forwarded-for': '203.0.113.9',
    };
    const out = upstreamRequestHeaders(incoming, options());
    assert.equal(out['x-forwarded-host'], 'app.example');
    assert.equal(out['x-forwarded-proto'], 'https');
    assert.equal(out['x-forwarded-for'], '203.0.113.9, 10.0.0.7');
    for (const name of ['x-forwarded-port', 'x-forwarded-prefix', 'forwarded']) assert.equal(name in out, false, name);
  });

  test('X-Forwarded-For starts with the peer when the client sent none; ingress port and http kept', () => {
    const out = upstreamRequestHeaders(base, options({ ingress: new URL('http://localhost:3000/'), remoteAddress: '::1' }));
    assert.equal(out['x-forwarded-for'], '::1');
    assert.equal(out['x-forwarded-host'], 'localhost:3000');
    assert.equal(out['x-forwarded-proto'], 'http');
  });

  test('Host is the target host, X-Request-Id is ours', () => {
    const out = upstreamRequestHeaders({ ...base, host: 'evil.example', 'x-request-id': 'client-id' }, options());
    assert.equal(out.host, 'api.internal:8080');
    assert.equal(out['x-request-id'], 'req-123');
  });

  test('ordinary headers pass unchanged', () => {
    const incoming: IncomingHttpHeaders = {
      ...base,
      'content-type': 'application/json',
      'content-length': '42',
      'accept-language': 'nb, en;q=0.5',
      'sec-fetch-mode': 'cors',
      'if-none-match': '"abc"',
      'x-custom': 'yes',
    };
    const out = upstreamRequestHeaders(incoming, options());
    for (const name of ['accept', 'user-agent', 'content-type', 'content-length', 'accept-language', 'sec-fetch-mode', 'if-none-match', 'x-custom']) {
      assert.equal(out[name], incoming[name], name);
    }
  });

  test('a WebSocket upgrade keeps Connection and Upgrade, and still swaps credentials', () => {
    const incoming: IncomingHttpHeaders = {
      ...base,
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
      authorization: 'Basic x',
      cookie: 'gatehouse.session=S; a=1',
    };
    const out = upstreamRequestHeaders(incoming, options({ upgrade: true, accessToken: 'tok' }));
    assert.equal(out.connection, 'Upgrade');
    assert.equal(out.upgrade, 'websocket');
    assert.equal(out['sec-websocket-key'], 'dGhlIHNhbXBsZSBub25jZQ==');
    assert.equal(out['sec-websocket-version'], '13');
    assert.equal(out.authorization, 'Bearer tok');
    assert.equal(out.cookie, 'a=1');
  });
});

describe('upstreamRequestHeaders: framing (request smuggling)', () => {
  const base: IncomingHttpHeaders = { host: 'app.example' };
  // Node's http.request() sends GET, HEAD, DELETE and OPTIONS bodies unframed unless told: the
  // framing must be explicit whatever the method, and `Connection` must not remove it.
  const cases: { name: string; incoming: IncomingHttpHeaders; want: Record<string, string | undefined> }[] = [
    { name: 'chunked stays chunked', incoming: { 'transfer-encoding': 'chunked' }, want: { 'transfer-encoding': 'chunked', 'content-length': undefined } },
    { name: 'chunked in another case', incoming: { 'transfer-encoding': 'Chunked' }, want: { 'transfer-encoding': 'chunked' } },
    { name: 'a length stays that length', incoming: { 'content-length': '42' }, want: { 'content-length': '42', 'transfer-encoding': undefined } },
    { name: 'Connection naming Content-Length keeps it', incoming: { 'content-length': '42', connection: 'keep-alive, Content-Length' }, want: { 'content-length': '42' } },
    { name: 'Connection naming Transfer-Encoding keeps chunked', incoming: { 'transfer-encoding': 'chunked', connection: 'transfer-encoding' }, want: { 'transfer-encoding': 'chunked' } },
    { name: 'no body, no framing', incoming: {}, want: { 'content-length': undefined, 'transfer-encoding': undefined } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const out = upstreamRequestHeaders({ ...base, ...c.incoming }, options());
      for (const [name, value] of Object.entries(c.want)) assert.equal(out[name], value, name);
      assert.equal(out.connection, undefined);
    });
  }

  test('headers Gatehouse sets cannot be sent with underscores either', () => {
    const incoming: IncomingHttpHeaders = { ...base, x_auth_request_user: 'admin', 'x-auth-request-email': 'a@b', x_forwarded_host: 'evil', x_request_id: 'x', content_length: '5' };
    const out = upstreamRequestHeaders(incoming, options());
    for (const name of Object.keys(incoming)) if (name !== 'host') assert.equal(name in out, false, name);
  });

  test('the same answers after a flood of new header names (the per-name memo is bounded)', () => {
    const flood: IncomingHttpHeaders = { ...base };
    for (let n = 0; n < 3000; n++) flood[`x-flood-${n}`] = 'v';
    assert.equal(Object.keys(upstreamRequestHeaders(flood, options())).filter((name) => name.startsWith('x-flood-')).length, 3000);
    const out = upstreamRequestHeaders({ ...base, x_auth_request_user: 'admin', 'x-middleware-subrequest': 'm', 'x-kept': 'yes' }, options());
    assert.equal('x_auth_request_user' in out || 'x-middleware-subrequest' in out, false);
    assert.equal(out['x-kept'], 'yes');
    const long = `x-auth-request-${'a'.repeat(200)}`;
    assert.equal(long in upstreamRequestHeaders({ ...base, [long]: 'v', [long.replaceAll('-', '_')]: 'v' }, options()), false);
    assert.equal(upstreamRequestHeaders({ ...base, [`x-long-${'b'.repeat(200)}`]: 'kept' }, options())[`x-long-${'b'.repeat(200)}`], 'kept');
  });
});
