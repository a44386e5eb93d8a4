import { createHmac } from 'node:crypto';

/**
 * The refresh token that succeeds a spent one is an HMAC of the spent
 * token's value under the server secret, so a client's retry within the
 * grace window can be handed the very successor the first answer carried,
 * though only its hash is stored. Keyed on the value rather than the row id:
 * the value is never stored, so a copy of the database, even with the secret,
 * yields no live refresh token.
 */
export class RefreshSuccessors {
  /** `secrets`: the current one first, then former ones (a retry across a rotation still finds its successor). */
  constructor(private readonly secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('RefreshSuccessors needs a secret');
  }

  /** The successor of `spent` under the current secret: what a rotation issues. */
  next(spent: string): string {
    return successorUnder(this.secrets[0], spent);
  }

  /** The successor of `spent` under every secret, current first. */
  candidates(spent: string): string[] {
    return this.secrets.map((secret) => successorUnder(secret, spent));
  }
}

function successorUnder(secret: string, spent: string): string {
  // 32 bytes in base64url: 43 characters, the shape looksLikeOpaqueToken accepts.
  return createHmac('sha256', secret).update(`groundwork refresh successor ${spent}`).digest('base64url');
}
