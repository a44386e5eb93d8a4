import { createHmac, createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { systemClock, type Clock } from '../../platform/clock';

const ACCESS_TOKEN_TYPE = 'at+jwt';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AccessTokenSettings {
  /** Signs new tokens (JWT_SECRET). */
  secret: string;
  /** Still verify, never sign (JWT_PREVIOUS_SECRETS). */
  previousSecrets: string[];
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export interface IssuedAccessToken {
  token: string;
  expiresAt: Date;
}

/** Whom a valid access token speaks for, and the session (refresh-token family) it was issued to. */
export interface AccessClaims {
  userId: string;
  sessionId?: string;
  /** When the token stops being accepted (its `exp`): a live connection opened with it is closed then. */
  expiresAt?: Date;
}

/** A token that verified, with its expiry (seconds since the epoch; undefined: the token has none). */
interface Verified {
  claims: AccessClaims;
  exp: number | undefined;
}

/** Tokens remembered as verified, at most: a client reuses its access token for every request until it expires. */
const VERIFIED_TOKENS_MAX = 10_000;

interface SigningKey {
  kid: string;
  /** A KeyObject built once: handed raw bytes, jose builds one on every call (8% of a small request's CPU in a profile). */
  key: KeyObject;
}

/** A key's id: an HMAC of the secret, so it names the secret without revealing it and needs no configuring. */
export function keyIdOf(secret: string): string {
  return createHmac('sha256', secret).update('groundwork access-token key id').digest('base64url').slice(0, 16);
}

/**
 * HS256 JWTs with the algorithm, issuer, audience and type pinned on both
 * sides. Each names its key in the `kid` header; JWT_SECRET signs, and it and
 * JWT_PREVIOUS_SECRETS verify, so the secret rotates without logging anyone out.
 */
export class AccessTokens {
  private readonly signing: SigningKey;
  private readonly verifying: Map<string, KeyObject>;
  /**
   * Tokens this process has verified (signature, alg, typ, issuer, audience:
   * all fixed by the token's text and the keys, which live as long as the
   * process), oldest first. A token seen again needs only its expiry checked,
   * against the same clock as jose: verifying it was 5-7% of a small request's CPU.
   * It holds token → user id and session id, nothing a role or a row depends on.
   */
  private readonly verified = new Map<string, Verified>();

  constructor(
    private readonly settings: AccessTokenSettings,
    private readonly clock: Clock = systemClock,
  ) {
    const keys = [settings.secret, ...settings.previousSecrets].map((secret) => ({
      kid: keyIdOf(secret),
      key: createSecretKey(Buffer.from(secret, 'utf8')),
    }));
    this.signing = keys[0];
    this.verifying = new Map(keys.map(({ kid, key }) => [kid, key]));
  }

  /** `sessionId` travels as the `sid` claim: it marks the current session in mySessions (it is not checked per request). */
  async issue(userId: string, sessionId?: string): Promise<IssuedAccessToken> {
    const issuedAt = Math.floor(this.clock.now().getTime() / 1000);
    const expiresAt = issuedAt + this.settings.ttlSeconds;
    const token = await new SignJWT(sessionId ? { sid: sessionId } : {})
      .setProtectedHeader({ alg: 'HS256', typ: ACCESS_TOKEN_TYPE, kid: this.signing.kid })
      .setSubject(userId)
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .setJti(randomUUID())
      .sign(this.signing.key);
    return { token, expiresAt: new Date(expiresAt * 1000) };
  }

  /** Whom the token was issued to, or undefined for anything not a valid, unexpired access token of ours. */
  async verify(token: string): Promise<AccessClaims | undefined> {
    const now = this.clock.now();
    const known = this.verified.get(token);
    if (known) {
      // jose's own test: expired once exp <= now, in whole seconds.
      if (known.exp === undefined || known.exp > Math.floor(now.getTime() / 1000)) return known.claims;
      this.verified.delete(token);
      return undefined;
    }
    for (const key of this.candidateKeys(token)) {
      const found = await this.verifyWith(token, key, now);
      if (found) {
        this.remember(token, found);
        return found.claims;
      }
    }
    return undefined;
  }

  private remember(token: string, verified: Verified): void {
    if (this.verified.size >= VERIFIED_TOKENS_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, verified);
  }

  /** The key its `kid` names (none for an unknown kid); every key for a token from before kids, until those expire. */
  private candidateKeys(token: string): KeyObject[] {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return [];
    }
    if (kid === undefined) return [...this.verifying.values()];
    const key = typeof kid === 'string' ? this.verifying.get(kid) : undefined;
    return key ? [key] : [];
  }

  private async verifyWith(token: string, key: KeyObject, now: Date): Promise<Verified | undefined> {
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        typ: ACCESS_TOKEN_TYPE,
        currentDate: now,
      });
      if (typeof payload.sub !== 'string' || !UUID.test(payload.sub)) return undefined;
      const expiresAt = typeof payload.exp === 'number' ? { expiresAt: new Date(payload.exp * 1000) } : {};
      const claims =
        typeof payload.sid === 'string' && UUID.test(payload.sid)
          ? { userId: payload.sub, sessionId: payload.sid, ...expiresAt }
          : { userId: payload.sub, ...expiresAt };
      return { claims, exp: payload.exp };
    } catch {
      return undefined;
    }
  }
}
