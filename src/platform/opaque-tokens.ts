import { createHash, randomBytes } from 'node:crypto';

const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A random 256-bit token for a capability (refresh token, invitation); store only its hash. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** A token with 256 bits of entropy needs no salt: SHA-256 is enough to keep the stored value useless to a thief. */
export function hashOpaqueToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function looksLikeOpaqueToken(token: string): boolean {
  return OPAQUE_TOKEN.test(token);
}
