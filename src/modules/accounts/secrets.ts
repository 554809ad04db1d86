// Secrets the service hands out (session cookies, sign-in codes, access and refresh tokens,
// share links) and how it keeps them: only as their SHA-256, compared in constant time.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** `bytes` random bytes as base64url: 32 bytes give 256 bits, the strength every secret here has. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Secrets are stored only as their SHA-256: a stolen table yields nothing usable. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares two hashes in constant time, so that response timing says nothing about the secret. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function newId(): string {
  return randomUUID();
}
