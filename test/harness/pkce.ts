// PKCE and token-response bits for the harness self-tests that play an OAuth client by hand.

import { createHash, randomBytes } from 'node:crypto';

/** A fresh PKCE verifier and its S256 challenge (RFC 7636). */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

/** The token endpoint's JSON, as far as the self-tests read it. */
export interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  error?: string;
}
