import { createHmac, timingSafeEqual } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type UnsubscribeCheck = { ok: true; userId: string } | { ok: false; reason: 'invalid' | 'expired' };

/**
 * The token of a one-click unsubscribe link: `<user id>.<expiry, unix
 * seconds>.<HMAC-SHA256 of both>`, keyed by a key derived from the server
 * secret, so it needs no table and works without logging in. Former secrets
 * (JWT_PREVIOUS_SECRETS) still verify, so a rotation does not break the links
 * of mail already sent.
 */
export class UnsubscribeTokens {
  private readonly keys: Buffer[];

  constructor(secrets: readonly string[]) {
    this.keys = secrets.map((secret) =>
      createHmac('sha256', secret).update('groundwork notification-mail unsubscribe').digest(),
    );
  }

  issue(userId: string, expiresAt: Date): string {
    const payload = `${userId}.${Math.floor(expiresAt.getTime() / 1000)}`;
    return `${payload}.${this.sign(this.keys[0], payload)}`;
  }

  /** Whose link it is; a malformed, forged or altered token is `invalid`, a genuine one past its expiry `expired`. */
  check(token: unknown, now: Date): UnsubscribeCheck {
    if (typeof token !== 'string' || token.length > 200) return { ok: false, reason: 'invalid' };
    const [userId, expiry, signature, ...rest] = token.split('.');
    if (rest.length > 0 || !UUID.test(userId ?? '') || !/^\d{1,12}$/.test(expiry ?? '') || !signature)
      return { ok: false, reason: 'invalid' };
    // Compared as text: base64url decoding ignores the spare bits of the last character, which a forger could vary.
    const given = Buffer.from(signature);
    const genuine = this.keys.some((key) => {
      const expected = Buffer.from(this.sign(key, `${userId}.${expiry}`));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!genuine) return { ok: false, reason: 'invalid' };
    if (Number(expiry) * 1000 <= now.getTime()) return { ok: false, reason: 'expired' };
    return { ok: true, userId };
  }

  private sign(key: Buffer, payload: string): string {
    return createHmac('sha256', key).update(payload).digest('base64url');
  }
}
