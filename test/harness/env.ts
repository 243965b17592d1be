// Environment for a Gatehouse under test, in the SPEC's variable names (SPEC §2).
//
// Order matters when wiring a stack by hand: the app's URL goes into the IdP's client registration
// (redirect URIs) and into INGRESS, so pick the app port first (freePort()), register the client
// (demoClient(appUrl)), start the IdP, then start the app on that port. stack.ts does all of it.

import { randomBytes } from 'node:crypto';
import type { ClientSpec } from '../../dev/idp';

/** A fresh SESSION_SECRET: 43 url-safe characters (SPEC: ≥ 32). */
export function testSecret(): string {
  return randomBytes(32).toString('base64url');
}

export interface AppEnvOptions {
  /** Public URL of the app under test: INGRESS, and the base of its redirect URI. */
  appUrl: string;
  idp: { issuer: string };
  /** The client registered at the IdP for this app (default: the one demoClient(appUrl) builds). */
  client: ClientSpec;
  /** Mounted at /api (UPSTREAMS=/api=<url>). */
  upstream?: { url: string };
  /** Sets REDIS_URL (otherwise the cookie store is used). */
  redis?: { url: string };
  /** Default: a fresh testSecret(). */
  sessionSecret?: string;
}

export function baseAppEnv(opts: AppEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    INGRESS: opts.appUrl.replace(/\/+$/, ''),
    OIDC_ISSUER: opts.idp.issuer,
    OIDC_CLIENT_ID: opts.client.clientId,
    SESSION_SECRET: opts.sessionSecret ?? testSecret(),
    // Names and emails in the id_token, as a real deployment would ask for them.
    OIDC_SCOPES: 'profile email',
  };
  if (opts.client.clientSecret) env.OIDC_CLIENT_SECRET = opts.client.clientSecret;
  if (opts.client.tokenEndpointAuthMethod && opts.client.tokenEndpointAuthMethod !== 'client_secret_basic') {
    env.OIDC_CLIENT_AUTH_METHOD = opts.client.tokenEndpointAuthMethod;
  }
  if (opts.upstream) env.UPSTREAMS = `/api=${opts.upstream.url}`;
  if (opts.redis) env.REDIS_URL = opts.redis.url;
  return env;
}
