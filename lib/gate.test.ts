import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig, type Config } from './config';
import { autoLogin, gateOutcome, unauthenticatedBody, type GateOutcome, type GateRequest } from './gate';

const on = loadConfig({ AUTO_LOGIN: 'true', AUTO_LOGIN_IGNORE_PATHS: '/public/**,/api/health,/api/*/status', ERROR_PATH: '/error' });
const off = loadConfig({ AUTO_LOGIN: 'false', ERROR_PATH: '/error' });

const request = (over: Partial<GateRequest> = {}): GateRequest => ({
  decodedPath: '/dashboard',
  returnTo: '/dashboard',
  basePath: '',
  navigation: true,
  hasSession: false,
  upstream: false,
  ...over,
});

describe('autoLogin', () => {
  const cases: { name: string; config: Config; input: GateRequest; want: GateOutcome }[] = [
    { name: 'off: navigation without a session passes', config: off, input: request(), want: { kind: 'pass' } },
    { name: 'off: fetch without a session passes', config: off, input: request({ navigation: false }), want: { kind: 'pass' } },
    { name: 'with a session: navigation passes', config: on, input: request({ hasSession: true }), want: { kind: 'pass' } },
    { name: 'with a session: fetch passes', config: on, input: request({ hasSession: true, navigation: false }), want: { kind: 'pass' } },
    {
      name: 'navigation: login redirect back to the path',
      config: on,
      input: request(),
      want: { kind: 'login', location: '/oauth2/login?redirect=%2Fdashboard' },
    },
    {
      name: 'navigation: path and query encoded into redirect',
      config: on,
      input: request({ decodedPath: '/a b/c', returnTo: '/a%20b/c?x=1&y=%2F#no' }),
      want: { kind: 'login', location: `/oauth2/login?redirect=${encodeURIComponent('/a%20b/c?x=1&y=%2F#no')}` },
    },
    {
      name: 'fetch: unauthenticated with the login URL',
      config: on,
      input: request({ navigation: false, decodedPath: '/api/users', returnTo: '/api/users?page=2' }),
      want: { kind: 'unauthenticated', loginUrl: '/oauth2/login?redirect=%2Fapi%2Fusers%3Fpage%3D2' },
    },
    {
      name: 'base path: login under the ingress path, return path as given',
      config: on,
      input: request({ decodedPath: '/x', returnTo: '/app/x?y=1', basePath: '/app' }),
      want: { kind: 'login', location: '/app/oauth2/login?redirect=%2Fapp%2Fx%3Fy%3D1' },
    },
    {
      name: 'base path: fetch',
      config: on,
      input: request({ decodedPath: '/x', returnTo: '/app/x', basePath: '/app', navigation: false }),
      want: { kind: 'unauthenticated', loginUrl: '/app/oauth2/login?redirect=%2Fapp%2Fx' },
    },
  ];
  for (const { name, config, input, want } of cases) {
    test(name, () => {
      assert.deepEqual(autoLogin(config, input), want);
    });
  }

  const open: { name: string; path: string; want: boolean }[] = [
    { name: 'ignored glob: ** root', path: '/public', want: true },
    { name: 'ignored glob: ** deep', path: '/public/a/b.css', want: true },
    { name: 'ignored glob: not a longer word', path: '/publicity', want: false },
    { name: 'ignored literal', path: '/api/health', want: true },
    { name: 'ignored literal is not a prefix', path: '/api/health/deep', want: false },
    { name: 'ignored single-segment *', path: '/api/v1/status', want: true },
    { name: '* is one segment only', path: '/api/v1/x/status', want: false },
    { name: 'always public: favicon', path: '/favicon.ico', want: true },
    { name: 'always public: robots', path: '/robots.txt', want: true },
    { name: 'always public: build assets', path: '/_next/static/chunks/app.js', want: true },
    { name: 'always public: image optimiser', path: '/_next/image', want: true },
    { name: 'not all of /_next', path: '/_next/data/build/page.json', want: false },
    { name: 'ERROR_PATH', path: '/error', want: true },
    { name: 'below ERROR_PATH is not ERROR_PATH', path: '/error/x', want: false },
    { name: 'protected', path: '/dashboard', want: false },
    { name: 'root protected', path: '/', want: false },
  ];
  for (const { name, path, want } of open) {
    test(`passes without a session: ${name}`, () => {
      for (const navigation of [true, false]) {
        const got = autoLogin(on, request({ decodedPath: path, returnTo: path, navigation }));
        assert.equal(got.kind === 'pass', want, `navigation=${navigation}`);
      }
    });
  }

  // SPEC §4 item 2: the always-public list is for Gatehouse's own app. On an upstream route
  // (a sidecar's `/=` included) those paths are the protected app's and may serve private data.
  for (const path of ['/favicon.ico', '/robots.txt', '/_next/static/chunks/app.js', '/_next/image', '/_next/webpack-hmr']) {
    test(`on an upstream route, ${path} needs a session`, () => {
      assert.equal(autoLogin(on, request({ decodedPath: path, returnTo: path, upstream: true })).kind, 'login');
      assert.equal(autoLogin(on, request({ decodedPath: path, returnTo: path, upstream: true, navigation: false })).kind, 'unauthenticated');
      assert.equal(autoLogin(on, request({ decodedPath: path, returnTo: path, upstream: true, hasSession: true })).kind, 'pass');
    });
  }

  test('on an upstream route, ignore globs and ERROR_PATH still pass', () => {
    for (const path of ['/public/a', '/api/health', '/error']) {
      assert.equal(autoLogin(on, request({ decodedPath: path, returnTo: path, upstream: true })).kind, 'pass', path);
    }
  });

  test('ignored paths are matched below the ingress path', () => {
    const got = autoLogin(on, request({ decodedPath: '/public/a', returnTo: '/app/public/a', basePath: '/app' }));
    assert.deepEqual(got, { kind: 'pass' });
  });

  test('without ERROR_PATH nothing extra is public', () => {
    const config = loadConfig({ AUTO_LOGIN: 'true' });
    assert.equal(autoLogin(config, request({ decodedPath: '/error', returnTo: '/error' })).kind, 'login');
  });

  test('ERROR_PATH configured with a trailing slash still passes its normalised path', () => {
    // The error redirect goes to `/error/?correlation_id=…`; decisions see the normalised `/error`.
    const config = loadConfig({ AUTO_LOGIN: 'true', ERROR_PATH: '/error/' });
    assert.deepEqual(autoLogin(config, request({ decodedPath: '/error', returnTo: '/error/?correlation_id=x&status_code=500' })), { kind: 'pass' });
  });

  test('one config, several calls: matching stays stable', () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(autoLogin(on, request({ decodedPath: '/public/x' })).kind, 'pass');
      assert.equal(autoLogin(on, request({ decodedPath: '/private/x' })).kind, 'login');
    }
  });
});

describe('unauthenticatedBody', () => {
  test('JSON with error and login_url', () => {
    const body = unauthenticatedBody('/app/oauth2/login?redirect=%2Fapp%2Fx');
    assert.deepEqual(JSON.parse(body), { error: 'unauthenticated', login_url: '/app/oauth2/login?redirect=%2Fapp%2Fx' });
    assert.deepEqual(Object.keys(JSON.parse(body)), ['error', 'login_url']);
  });
});

describe('gateOutcome: access rules and forward-auth', () => {
  const ignoring = loadConfig({ AUTO_LOGIN: 'true', AUTO_LOGIN_IGNORE_PATHS: '/public/**', ERROR_PATH: '/error' });
  for (const [name, config] of [['auto-login off', off], ['auto-login on', on]] as const) {
    test(`${name}: a denied session is forbidden, navigation or not`, () => {
      for (const navigation of [true, false]) {
        for (const upstream of [true, false]) {
          assert.deepEqual(gateOutcome(config, request({ hasSession: true, denied: 'groups', navigation, upstream })), { kind: 'forbidden', reason: 'groups' });
        }
      }
    });
  }
  test('a denied session is forbidden on ignored paths and the error path too', () => {
    assert.equal(gateOutcome(ignoring, request({ hasSession: true, denied: 'email_domain', decodedPath: '/public/x' })).kind, 'forbidden');
    assert.equal(gateOutcome(ignoring, request({ hasSession: true, denied: 'email_domain', decodedPath: '/favicon.ico' })).kind, 'forbidden');
  });
  test('an admitted session passes', () => {
    assert.deepEqual(gateOutcome(on, request({ hasSession: true, denied: null })), { kind: 'pass' });
  });
  test('"denied" without a session means nothing: auto-login decides', () => {
    assert.equal(gateOutcome(on, request({ hasSession: false, denied: 'groups' })).kind, 'login');
    assert.equal(gateOutcome(off, request({ hasSession: false, denied: 'groups' })).kind, 'pass');
  });
  test('requireSession: no session is never a pass, whatever AUTO_LOGIN and its ignored paths say', () => {
    for (const config of [off, on, ignoring]) {
      for (const decodedPath of ['/x', '/public/x', '/error', '/favicon.ico']) {
        const got = gateOutcome(config, request({ requireSession: true, navigation: false, decodedPath, returnTo: '/deep?x=1' }));
        assert.deepEqual(got, { kind: 'unauthenticated', loginUrl: '/oauth2/login?redirect=%2Fdeep%3Fx%3D1' }, decodedPath);
      }
    }
  });
  test('requireSession with a session passes', () => {
    assert.deepEqual(gateOutcome(off, request({ requireSession: true, hasSession: true })), { kind: 'pass' });
  });
});

describe('autoLogin with several identity providers (SPEC §12)', () => {
  const several = loadConfig({
    AUTO_LOGIN: 'true',
    IDENTITY_PROVIDERS: 'corp,partner',
    OIDC_CORP_ISSUER: 'http://127.0.0.1:3101',
    OIDC_CORP_CLIENT_ID: 'a',
    OIDC_CORP_CLIENT_SECRET: 's',
    OIDC_PARTNER_ISSUER: 'http://127.0.0.1:3102',
    OIDC_PARTNER_CLIENT_ID: 'b',
    OIDC_PARTNER_CLIENT_SECRET: 's',
  });

  test('a navigation goes to the sign-in page, keeping where it was going', () => {
    assert.deepEqual(autoLogin(several, request({ basePath: '/app', returnTo: '/app/x?y=1' })), { kind: 'login', location: `/app/oauth2/sign-in?redirect=${encodeURIComponent('/app/x?y=1')}` });
  });

  test('a fetch gets the sign-in page as its login URL', () => {
    assert.deepEqual(autoLogin(several, request({ navigation: false })), { kind: 'unauthenticated', loginUrl: '/oauth2/sign-in?redirect=%2Fdashboard' });
  });
});
