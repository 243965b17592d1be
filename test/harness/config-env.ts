// Configuration fixtures for the config unit tests: a minimal valid production environment, and
// the problems loadConfig() reports for an environment (none when it loads).

import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../lib/config';

export const PRODUCTION_ENV = {
  NODE_ENV: 'production',
  INGRESS: 'https://app.example.com',
  OIDC_ISSUER: 'https://idp.example.com',
  OIDC_CLIENT_ID: 'client',
  OIDC_CLIENT_SECRET: 'secret',
  SESSION_SECRET: 'x'.repeat(32),
};

export function configProblems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  return [];
}
