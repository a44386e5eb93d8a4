import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { Config } from '../../config/config';
import { LEGACY_KEY_ID, type DataKey } from '../../config/keys.config';

export { LEGACY_KEY_ID };

const LEGACY_PREFIX = 'v1:';
const SEALED = /^v2:([^:]+):([A-Za-z0-9+/]+={0,2})$/;

export interface Keyring {
  /** DATA_ENCRYPTION_KEYS: the first seals, any opens. */
  keys: DataKey[];
  /** JWT_SECRET and JWT_PREVIOUS_SECRETS: what `v1:` secrets, sealed before data keys existed, may have been sealed under. */
  legacySecrets: string[];
}

/**
 * Endpoint secrets must be stored readable (we sign with them), so they are
 * encrypted at rest with AES-256-GCM under a data-encryption key: a database
 * dump alone does not reveal them. A sealed secret names its key
 * (`v2:<key id>:<iv|tag|ciphertext>`, the header authenticated too), so keys
 * rotate: the first key seals, every configured key opens, and
 * `npm run keys:reencrypt` moves old rows to the first key. `v1:` secrets,
 * sealed under a key derived from JWT_SECRET, open as the key id `legacy`.
 */
export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly sealing: DataKey;
  private readonly legacyKeys: Buffer[];

  constructor(ring: Keyring) {
    if (ring.keys.length === 0) throw new Error('SecretBox needs at least one data-encryption key');
    this.keys = new Map(ring.keys.map(({ id, key }) => [id, key]));
    this.sealing = ring.keys[0];
    this.legacyKeys = ring.legacySecrets.map((secret) =>
      Buffer.from(hkdfSync('sha256', secret, 'groundwork', 'webhook endpoint secrets', 32)),
    );
  }

  static fromConfig(config: Config): SecretBox {
    return new SecretBox({
      keys: config.dataEncryptionKeys,
      legacySecrets: [config.jwtSecret, ...config.jwtPreviousSecrets],
    });
  }

  /** The id of the key new secrets are sealed under. */
  get currentKeyId(): string {
    return this.sealing.id;
  }

  /** What every secret sealed under the current key starts with. */
  get currentPrefix(): string {
    return headerOf(this.sealing.id);
  }

  /** The key a sealed secret was sealed under, or undefined for a value that is no sealed secret. */
  keyIdOf(box: string): string | undefined {
    if (box.startsWith(LEGACY_PREFIX)) return LEGACY_KEY_ID;
    return SEALED.exec(box)?.[1];
  }

  seal(plain: string): string {
    const header = this.currentPrefix;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealing.key, iv).setAAD(Buffer.from(header));
    const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${header}${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')}`;
  }

  /** The plain secret; throws, naming the key id, when no configured key opens it. */
  open(box: string): string {
    if (box.startsWith(LEGACY_PREFIX)) return this.openLegacy(box.slice(LEGACY_PREFIX.length));
    const match = SEALED.exec(box);
    if (!match) throw new Error('not sealed in a format this version knows');
    const [, keyId, payload] = match;
    const key = this.keys.get(keyId);
    if (!key)
      throw new Error(`sealed under the data-encryption key ${keyId}, which DATA_ENCRYPTION_KEYS does not list`);
    const opened = decrypt(key, Buffer.from(payload, 'base64'), Buffer.from(headerOf(keyId)));
    if (opened === undefined)
      throw new Error(
        `sealed under the data-encryption key ${keyId}, but DATA_ENCRYPTION_KEYS lists another key under that id`,
      );
    return opened;
  }

  private openLegacy(payload: string): string {
    const raw = Buffer.from(payload, 'base64');
    for (const key of this.legacyKeys) {
      const opened = decrypt(key, raw);
      if (opened !== undefined) return opened;
    }
    throw new Error(
      'sealed under a key derived from a JWT secret that neither JWT_SECRET nor JWT_PREVIOUS_SECRETS holds',
    );
  }
}

function headerOf(keyId: string): string {
  return `v2:${keyId}:`;
}

/** AES-256-GCM over iv(12) | tag(16) | ciphertext; undefined when the key (or the header) is not the one it was sealed with. */
function decrypt(key: Buffer, raw: Buffer, header?: Buffer): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    if (header) decipher.setAAD(header);
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
