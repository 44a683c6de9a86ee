/**
 * Comparing and keeping secrets: API tokens, worker secrets, webhook
 * signatures, application tokens. Comparisons hash both sides first, so they
 * take the same time whatever the lengths; secrets the master creates are
 * kept only as SHA-256 hashes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** SHA-256 of a secret, hex: what the store keeps instead of the secret. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares two secrets in constant time (hashed first, so lengths do not leak). */
export function secretsEqual(given: string, expected: string): boolean {
  // An empty secret is no secret: never a match (e.g. an unset webhook secret).
  if (expected === '') return false;
  return matchesHash(given, hashSecret(expected));
}

/** Whether `given` is the secret whose `hashSecret` is `hash`, in constant time. */
export function matchesHash(given: string, hash: string): boolean {
  const expected = Buffer.from(hash, 'hex');
  const actual = createHash('sha256').update(given, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

/** A new random secret: 32 bytes, base64url (43 characters, safe in URLs, YAML and shells). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}
