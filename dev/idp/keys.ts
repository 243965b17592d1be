// Key material of the dev IdP, generated once per process rather than per IdP instance: a test that
// restarts its IdP keeps cookies and tokens readable, and key generation stays off the hot path.

import { createPrivateKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';

/** Cookie signing keys. There is no secret worth protecting in a dev IdP, so fixed per process:
 *  cookies sealed by one IdP instance stay readable by another in the same process. */
export const COOKIE_KEYS = [randomBytes(32).toString('base64url')];

let processSigningKey: Record<string, unknown> | undefined;

/** One RS256 signing key (private JWK) per process. Generating it ourselves avoids oidc-provider's
 *  fixed "quick start" keys (and their warning); 2048-bit generation costs ~50 ms, so it is cached. */
export function signingKey(): Record<string, unknown> {
  if (!processSigningKey) {
    // Exporting a JWK straight from a freshly generated key object can deadlock Node 20 when a
    // garbage collection frees the key-generation job mid-export; going through PEM cannot.
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    processSigningKey = {
      ...(createPrivateKey(privateKey).export({ format: 'jwk' }) as Record<string, unknown>),
      kid: `dev-${randomUUID().slice(0, 8)}`,
      alg: 'RS256',
      use: 'sig',
    };
  }
  return processSigningKey;
}
