import { randomBytes } from 'node:crypto';
import { IsOptional, IsString, MinLength } from 'class-validator';
import { keptDevelopmentSecret } from './development-secrets';
import type { ProcessConfig } from './process.config';

/** The key id of secrets sealed before DATA_ENCRYPTION_KEYS existed (`v1:`, a key derived from JWT_SECRET): reserved. */
export const LEGACY_KEY_ID = 'legacy';
/** Where development keeps the key it generates, so sealed secrets survive a restart. */
export const DEVELOPMENT_KEYS_FILE = './.data/data-encryption-keys';
const DEVELOPMENT_KEY_ID = 'dev';
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** A random 32-byte key shows ~30 distinct byte values; fewer than 16 means a pattern, not randomness. */
const MIN_DISTINCT_BYTES = 16;

/** Data-encryption keys: what seals secrets stored in the database (webhook endpoint secrets). */
export class KeysConfig {
  /** AES-256 keys as `id:base64key,...` (32 bytes each); the first seals, every listed one opens. Required in production. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  DATA_ENCRYPTION_KEYS: string | undefined = undefined;
}

export interface DataKey {
  id: string;
  key: Buffer;
}

/** The keys of a DATA_ENCRYPTION_KEYS value, in order; `problems` gets a line for each bad entry. */
export function parseDataKeys(value: string, problems: string[] = []): DataKey[] {
  const keys: DataKey[] = [];
  const entries = value.split(/[\s,]+/).filter(Boolean);
  if (entries.length === 0) problems.push('DATA_ENCRYPTION_KEYS lists no key (id:base64key,...)');
  for (const entry of entries) {
    const [id, encoded, extra] = entry.split(':');
    if (!KEY_ID.test(id ?? '') || encoded === undefined || extra !== undefined) {
      problems.push(
        `DATA_ENCRYPTION_KEYS: each entry is id:base64key with an id of letters, digits, ".", "_" or "-" (entry ${keys.length + 1} is not)`,
      );
      continue;
    }
    const key = BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
    if (id === LEGACY_KEY_ID)
      problems.push(`DATA_ENCRYPTION_KEYS: the id ${LEGACY_KEY_ID} is reserved for secrets sealed under JWT_SECRET`);
    else if (keys.some((known) => known.id === id)) problems.push(`DATA_ENCRYPTION_KEYS lists the id ${id} twice`);
    else if (key.length !== KEY_BYTES)
      problems.push(`DATA_ENCRYPTION_KEYS: key ${id} must be ${KEY_BYTES} bytes in base64 (openssl rand -base64 32)`);
    else keys.push({ id, key });
  }
  return keys;
}

/** True for a key with too little variety to be random (all zeros, a repeated phrase). */
export function isWeakKey(key: Buffer): boolean {
  return new Set(key).size < MIN_DISTINCT_BYTES;
}

/**
 * Production refuses missing, malformed or weak keys; development keeps a
 * generated key in DEVELOPMENT_KEYS_FILE (sealed secrets outlive a restart);
 * test generates one per process, as JWT_SECRET is.
 */
export function checkDataEncryptionKeys(
  config: KeysConfig & ProcessConfig,
  problems: string[],
  warnings: string[],
): void {
  const production = config.NODE_ENV === 'production';
  if (config.DATA_ENCRYPTION_KEYS === undefined) {
    if (production) {
      problems.push(
        'DATA_ENCRYPTION_KEYS is required in production (or DATA_ENCRYPTION_KEYS_FILE): id:base64key, e.g. k1:$(openssl rand -base64 32)',
      );
    } else if (config.NODE_ENV === 'development') {
      config.DATA_ENCRYPTION_KEYS = developmentKeys(problems, warnings);
    } else {
      config.DATA_ENCRYPTION_KEYS = generatedKeys();
      warnings.push('DATA_ENCRYPTION_KEYS is not set: generated one, so sealed secrets will not survive a restart');
    }
    return;
  }
  const before = problems.length;
  const keys = parseDataKeys(config.DATA_ENCRYPTION_KEYS, problems);
  if (problems.length > before) return;
  for (const { id } of keys.filter(({ key }) => isWeakKey(key))) {
    if (production)
      problems.push(
        `DATA_ENCRYPTION_KEYS: key ${id} is weak (not random bytes); generate one with openssl rand -base64 32`,
      );
    else warnings.push(`DATA_ENCRYPTION_KEYS: key ${id} is weak (not random bytes): production would refuse it`);
  }
}

function generatedKeys(): string {
  return `${DEVELOPMENT_KEY_ID}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/** The development key file's keys, generated on first use. */
function developmentKeys(problems: string[], warnings: string[]): string | undefined {
  const kept = keptDevelopmentSecret(DEVELOPMENT_KEYS_FILE, generatedKeys);
  if ('unwritable' in kept) {
    warnings.push(
      `DATA_ENCRYPTION_KEYS is not set and ${DEVELOPMENT_KEYS_FILE} cannot be written: generated one, so sealed secrets will not survive a restart`,
    );
    return generatedKeys();
  }
  if (kept.generated)
    warnings.push(`DATA_ENCRYPTION_KEYS is not set: generated a development key into ${DEVELOPMENT_KEYS_FILE}`);
  const unusable: string[] = [];
  if (parseDataKeys(kept.value, unusable).length > 0 && unusable.length === 0) return kept.value;
  problems.push(
    `DATA_ENCRYPTION_KEYS is not set and ${DEVELOPMENT_KEYS_FILE} holds no valid key: delete the file to have one generated`,
  );
  return undefined;
}
