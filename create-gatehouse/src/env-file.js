// The new project's .env.local: a fresh SESSION_SECRET and the chosen settings, in the variable
// names of the README's Configuration table. `npm run dev` reads it (dev/start.ts loads it the way
// Next.js does, before it decides whether to start the embedded IdP), and .gitignore keeps it out
// of git. With no issuer chosen, OIDC_ISSUER stays unset so the embedded dev IdP is used.

import { randomBytes } from 'node:crypto';
import { upstreamsValue } from './choices.js';

/** 43 url-safe characters from 32 random bytes (Gatehouse wants at least 32). */
export function newSessionSecret() {
  return randomBytes(32).toString('base64url');
}

/**
 * @param {object} choices the resolved choices (see choices.js DEFAULTS)
 * @param {string} sessionSecret
 * @returns {string} the file's text
 */
export function renderEnvFile(choices, sessionSecret) {
  const lines = [
    '# Local settings of this Gatehouse app, read by `npm run dev` (see README "Configuration").',
    '# Not committed (.gitignore). In production set these in the environment instead, with',
    '# INGRESS and a client credential for your identity provider.',
    '',
    '# Seals the session cookies; keep it secret. A comma-separated list rotates secrets.',
    `SESSION_SECRET=${sessionSecret}`,
    '',
    '# Identity provider',
    `OIDC_PROVIDER=${choices.provider}`,
  ];
  if (choices.issuer) {
    lines.push(`OIDC_ISSUER=${choices.issuer}`);
    if (choices.clientId) lines.push(`OIDC_CLIENT_ID=${choices.clientId}`);
    lines.push(
      '# The credential of that client (or OIDC_CLIENT_JWK with a private JWK):',
      '# OIDC_CLIENT_SECRET=',
      `# Register http://localhost:3000/oauth2/callback as a redirect URI at ${choices.issuer}.`,
    );
  } else {
    lines.push(
      '# OIDC_ISSUER unset: `npm run dev` starts the embedded dev identity provider (any user name',
      '# and password). Set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET to use a real one.',
    );
    if (choices.clientId) lines.push(`OIDC_CLIENT_ID=${choices.clientId}`);
  }
  lines.push('', '# Session store');
  if (choices.store === 'redis') {
    lines.push(
      '# Sessions in Redis (the cookie holds only a sealed ticket). Without a Redis at this URL,',
      '# new logins fall back to cookie sessions and /oauth2/ready answers 503.',
      'REDIS_URL=redis://localhost:6379',
    );
  } else {
    lines.push('# REDIS_URL unset: sessions are sealed in cookies. Set REDIS_URL=redis://… for Redis.');
  }
  lines.push('', '# Upstreams: PREFIX=URL routes, comma-separated; "/=URL" makes Gatehouse a sidecar.');
  const upstreams = upstreamsValue(choices);
  if (upstreams) lines.push(`UPSTREAMS=${upstreams}`);
  else lines.push('# UPSTREAMS unset: `npm run dev` mounts its demo API at /api.');
  lines.push('', '# Require a login on every path (except AUTO_LOGIN_IGNORE_PATHS)', `AUTO_LOGIN=${choices.autoLogin ? 'true' : 'false'}`, '');
  return lines.join('\n');
}
