// Bad configuration is a clear startup error (SPEC §2, STYLE rule 2): the production server exits
// non-zero on its own, quickly, with a message that names the variable, without a stack trace and
// without echoing secrets. Each case changes one thing in a configuration that is shown to start.
//
//   NEXT_DIST_DIR=.next-core node --import tsx --test test/integration/config-errors.test.ts

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startAppExpectingFailure } from '../harness/app';
import { testSecret } from '../harness/env';
import { startStack, type Stack } from '../harness/stack';
import { assertNoStack } from './support';

/** "Quickly": config is checked before anything else starts. Generous for a loaded 2-core runner. */
const EXIT_WITHIN_MS = 15_000;

interface Case {
  name: string;
  /** Variables to set (a string) or remove (null). */
  change: Record<string, string | null>;
  /** Variables the output must name. */
  names: string[];
}

const SHORT_SECRET = 'short-secret-value-1234';

const CASES: Case[] = [
  { name: 'SESSION_SECRET too short', change: { SESSION_SECRET: SHORT_SECRET }, names: ['SESSION_SECRET'] },
  { name: 'SESSION_SECRET list with a short entry', change: { SESSION_SECRET: `${testSecret()},${SHORT_SECRET}` }, names: ['SESSION_SECRET'] },
  { name: 'SESSION_SECRET missing in production', change: { SESSION_SECRET: null }, names: ['SESSION_SECRET'] },
  { name: 'INGRESS not a URL', change: { INGRESS: 'not a url' }, names: ['INGRESS'] },
  { name: 'INGRESS not http(s)', change: { INGRESS: 'ftp://example.com/app' }, names: ['INGRESS'] },
  { name: 'INGRESS missing in production', change: { INGRESS: null }, names: ['INGRESS'] },
  { name: 'UPSTREAMS prefix without a slash', change: { UPSTREAMS: 'api=http://127.0.0.1:9' }, names: ['UPSTREAMS'] },
  { name: 'UPSTREAMS target not a URL', change: { UPSTREAMS: '/api=not-a-url' }, names: ['UPSTREAMS'] },
  { name: 'UPSTREAMS entry without =', change: { UPSTREAMS: '/api' }, names: ['UPSTREAMS'] },
  { name: 'UPSTREAMS shadowing /oauth2', change: { UPSTREAMS: '/oauth2=http://127.0.0.1:9' }, names: ['UPSTREAMS'] },
  { name: 'OIDC_CLIENT_ID missing in production', change: { OIDC_CLIENT_ID: null }, names: ['OIDC_CLIENT_ID'] },
  { name: 'OIDC_CLIENT_ID blank', change: { OIDC_CLIENT_ID: '   ' }, names: ['OIDC_CLIENT_ID'] },
  { name: 'OIDC_CLIENT_SECRET missing for client_secret_basic', change: { OIDC_CLIENT_SECRET: null }, names: ['OIDC_CLIENT_SECRET'] },
  { name: 'OIDC_CLIENT_JWK not JSON', change: { OIDC_CLIENT_JWK: '{not json' }, names: ['OIDC_CLIENT_JWK'] },
  { name: 'OIDC_ISSUER not a URL', change: { OIDC_ISSUER: 'idp.example.com' }, names: ['OIDC_ISSUER'] },
  { name: 'OIDC_ISSUER plain http off loopback in production', change: { OIDC_ISSUER: 'http://idp.example.com' }, names: ['OIDC_ISSUER'] },
  { name: 'SESSION_MAX_LIFETIME not a duration', change: { SESSION_MAX_LIFETIME: 'forever' }, names: ['SESSION_MAX_LIFETIME'] },
  { name: 'SESSION_MAX_LIFETIME bare number', change: { SESSION_MAX_LIFETIME: '36000' }, names: ['SESSION_MAX_LIFETIME'] },
  { name: 'SESSION_MAX_LIFETIME zero', change: { SESSION_MAX_LIFETIME: '0s' }, names: ['SESSION_MAX_LIFETIME'] },
  { name: 'SESSION_MAX_LIFETIME negative', change: { SESSION_MAX_LIFETIME: '-1h' }, names: ['SESSION_MAX_LIFETIME'] },
  { name: 'SESSION_INACTIVITY_TIMEOUT not a duration', change: { SESSION_INACTIVITY_TIMEOUT: 'soon' }, names: ['SESSION_INACTIVITY_TIMEOUT'] },
  // 0s would make every session inactive the moment it is created (a login that never works).
  { name: 'SESSION_INACTIVITY_TIMEOUT zero', change: { SESSION_INACTIVITY_TIMEOUT: '0s' }, names: ['SESSION_INACTIVITY_TIMEOUT'] },
  { name: 'REDIS_URL not redis://', change: { REDIS_URL: 'http://127.0.0.1:6379' }, names: ['REDIS_URL'] },
  { name: 'ERROR_PATH absolute URL', change: { ERROR_PATH: 'https://evil.example/error' }, names: ['ERROR_PATH'] },
  { name: 'ERROR_PATH scheme-relative', change: { ERROR_PATH: '//evil.example/error' }, names: ['ERROR_PATH'] },
  { name: 'AUTO_LOGIN not a boolean', change: { AUTO_LOGIN: 'maybe' }, names: ['AUTO_LOGIN'] },
  { name: 'COOKIE_PREFIX with separators', change: { COOKIE_PREFIX: 'bad prefix;' }, names: ['COOKIE_PREFIX'] },
  { name: 'two bad variables are both named', change: { SESSION_SECRET: SHORT_SECRET, INGRESS: 'nope' }, names: ['SESSION_SECRET', 'INGRESS'] },
];

describe('configuration errors stop startup with a clear message', { concurrency: 3 }, () => {
  let stack: Stack;
  before(async () => {
    // The baseline configuration, started for real: every case below differs from it in one way.
    stack = await startStack({});
  });
  after(() => stack?.close());

  test('control: the baseline configuration starts', async () => {
    const res = await fetch(`${stack.app.url}/oauth2/ping`);
    assert.equal(res.status, 200);
    assert.equal((await res.text()).trim(), 'pong');
  });

  for (const c of CASES) {
    test(c.name, async () => {
      const env: Record<string, string> = { ...stack.env };
      for (const [name, value] of Object.entries(c.change)) {
        if (value === null) delete env[name];
        else env[name] = value;
      }
      const started = Date.now();
      const result = await startAppExpectingFailure(env, { timeoutMs: EXIT_WITHIN_MS });
      const elapsed = Date.now() - started;
      assert.equal(result.signal, null, `exited on its own, not by ${result.signal}`);
      assert.ok(result.code !== null && result.code !== 0, `non-zero exit code, got ${result.code}:\n${result.output}`);
      assert.ok(elapsed < EXIT_WITHIN_MS, `exited after ${elapsed} ms`);
      for (const name of c.names) assert.match(result.output, new RegExp(`\\b${name}\\b`), `the output names ${name}:\n${result.output}`);
      assertNoStack(result.output);
      assert.doesNotMatch(result.output, /ZodError|"code":\s*"custom"|\bat (async )?\w+ \(/, 'no raw validation dump');
      for (const secret of [stack.env.SESSION_SECRET, stack.env.OIDC_CLIENT_SECRET, SHORT_SECRET]) {
        assert.ok(!result.output.includes(secret), 'a secret was echoed in the output');
      }
    });
  }
});
