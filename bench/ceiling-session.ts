// The Node ceiling's session format, shared by the bench setup (which seals one session into Redis)
// and bench/ceiling.ts (which opens it on every request): AES-256-GCM with a 32-byte key, stored
// as iv (12 bytes) | tag (16 bytes) | ciphertext under `ceiling:session:<id>`, the id travelling
// in the `ceiling` cookie. The plaintext is a session JSON of about 1 KB, shaped like Gatehouse's.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const CEILING_COOKIE = 'ceiling';
export const ceilingSessionKey = (id: string) => `ceiling:session:${id}`;

/** Plaintext size the sealed session is padded to, bytes. */
const SESSION_BYTES = 1024;

const token = (bytes: number) => randomBytes(bytes).toString('base64url');

/** A session JSON of SESSION_BYTES carrying `accessToken`, padded with an ID token of the right length. */
export function sessionJson(id: string, accessToken: string): string {
  const now = Date.now();
  const session = {
    id,
    sub: 'bench-ceiling-user',
    sid: token(16),
    createdAt: now,
    claims: { sub: 'bench-ceiling-user', email: 'bench@example.com', name: 'Bench Ceiling' },
    tokens: { accessToken, refreshToken: token(32), expiresAt: now + 3_600_000, refreshedAt: now, idToken: '' },
  };
  const unpadded = JSON.stringify(session).length;
  session.tokens.idToken = 'x'.repeat(Math.max(0, SESSION_BYTES - unpadded));
  return JSON.stringify(session);
}

export function seal(key: Buffer, plaintext: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** iv | tag | ciphertext → the session's access token; throws when the tag does not verify. */
export function openAccessToken(key: Buffer, sealed: Buffer): string {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAuthTag(sealed.subarray(12, 28));
  const plain = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
  return (JSON.parse(plain.toString('utf8')) as { tokens: { accessToken: string } }).tokens.accessToken;
}
