// SHUTDOWN_WAIT and SHUTDOWN_GRACE (SPEC §2): durations with the SPEC's defaults, where `0s` is a
// legitimate choice (no load balancer to wait for; tests) and anything else that is not a duration
// stops startup naming the variable.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configProblems, PRODUCTION_ENV } from '../test/harness/config-env';
import { loadConfig } from './config';

const production = PRODUCTION_ENV;

const problems = (env: Record<string, string>) => configProblems({ ...production, ...env });

describe('config: SHUTDOWN_WAIT, SHUTDOWN_GRACE', () => {
  test('default to 5 s and 20 s', () => {
    assert.deepEqual(loadConfig(production).shutdown, { waitMs: 5_000, graceMs: 20_000 });
  });

  test('take durations, 0s included', () => {
    assert.deepEqual(loadConfig({ ...production, SHUTDOWN_WAIT: '0s', SHUTDOWN_GRACE: '1m30s' }).shutdown, { waitMs: 0, graceMs: 90_000 });
    assert.deepEqual(loadConfig({ ...production, SHUTDOWN_WAIT: '500ms', SHUTDOWN_GRACE: '0s' }).shutdown, { waitMs: 500, graceMs: 0 });
  });

  for (const [name, value] of [['SHUTDOWN_WAIT', '5'], ['SHUTDOWN_GRACE', 'soon'], ['SHUTDOWN_WAIT', '-1s']] as const) {
    test(`refuses ${name}=${value}, naming it`, () => {
      const found = problems({ [name]: value });
      assert.ok(found.some((p) => p.startsWith(`${name}:`)), JSON.stringify(found));
    });
  }

  test('other durations still refuse 0s', () => {
    assert.ok(problems({ SESSION_MAX_LIFETIME: '0s' }).some((p) => p.startsWith('SESSION_MAX_LIFETIME:')));
  });
});
