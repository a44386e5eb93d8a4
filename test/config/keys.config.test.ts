// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config';
import { problemsOf } from '../support/config';
import { DEVELOPMENT_KEYS_FILE } from '../../src/config/keys.config';
import { DEVELOPMENT_JWT_SECRET_FILE } from '../../src/config/auth.config';

const JWT_SECRET = randomBytes(32).toString('base64url');
const key = (bytes = randomBytes(32)) => bytes.toString('base64');

/** Runs `work` with the working directory in a fresh temporary one (the development key file is relative to it). */
function inTemporaryDirectory<T>(work: (dir: string) => T): T {
  const before = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), 'gw-keys-config-'));
  process.chdir(dir);
  try {
    return work(dir);
  } finally {
    process.chdir(before);
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('DATA_ENCRYPTION_KEYS', () => {
  it('is required in production', () => {
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET })).toEqual([
      'DATA_ENCRYPTION_KEYS is required in production (or DATA_ENCRYPTION_KEYS_FILE): id:base64key, e.g. k1:$(openssl rand -base64 32)',
    ]);
  });

  it('lists keys in order, the first sealing, read from the variable or from DATA_ENCRYPTION_KEYS_FILE (one a line)', () => {
    const [first, second] = [randomBytes(32), randomBytes(32)];
    const { config } = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET,
      DATA_ENCRYPTION_KEYS: `k2:${key(first)}, k1:${key(second)}`,
    });
    expect(config.dataEncryptionKeys).toEqual([
      { id: 'k2', key: first },
      { id: 'k1', key: second },
    ]);
    inTemporaryDirectory((dir) => {
      writeFileSync(join(dir, 'keys'), `k2:${first.toString('base64url')}\nk1:${key(second)}\n`);
      const fromFile = loadConfig({
        NODE_ENV: 'production',
        JWT_SECRET,
        DATA_ENCRYPTION_KEYS_FILE: join(dir, 'keys'),
      }).config;
      expect(fromFile.dataEncryptionKeys.map((entry) => entry.id)).toEqual(['k2', 'k1']);
      expect(fromFile.dataEncryptionKeys[0].key).toEqual(first);
    });
  });

  it.each([
    [
      'a key of 16 bytes',
      `k1:${key(randomBytes(16))}`,
      'DATA_ENCRYPTION_KEYS: key k1 must be 32 bytes in base64 (openssl rand -base64 32)',
    ],
    [
      'a key that is not base64',
      'k1:not*base64',
      'DATA_ENCRYPTION_KEYS: key k1 must be 32 bytes in base64 (openssl rand -base64 32)',
    ],
    [
      'an entry without an id',
      key(),
      'DATA_ENCRYPTION_KEYS: each entry is id:base64key with an id of letters, digits, ".", "_" or "-" (entry 1 is not)',
    ],
    [
      'an id with a colon',
      `a:b:${key()}`,
      'DATA_ENCRYPTION_KEYS: each entry is id:base64key with an id of letters, digits, ".", "_" or "-" (entry 1 is not)',
    ],
    [
      'the reserved id legacy',
      `legacy:${key()}`,
      'DATA_ENCRYPTION_KEYS: the id legacy is reserved for secrets sealed under JWT_SECRET',
    ],
    ['an id twice', `k1:${key()},k1:${key()}`, 'DATA_ENCRYPTION_KEYS lists the id k1 twice'],
    ['no key at all', ' , ', 'DATA_ENCRYPTION_KEYS lists no key (id:base64key,...)'],
  ])('refuses %s in any environment', (_label, value, problem) => {
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET, DATA_ENCRYPTION_KEYS: value })).toEqual([problem]);
    expect(problemsOf({ NODE_ENV: 'development', DATA_ENCRYPTION_KEYS: value })).toEqual([problem]);
  });

  it('refuses a weak key in production and warns of one elsewhere', () => {
    const weak = `k1:${key(Buffer.from('correct horse battery staple!!!!'))}`;
    expect(problemsOf({ NODE_ENV: 'production', JWT_SECRET, DATA_ENCRYPTION_KEYS: weak })).toEqual([
      'DATA_ENCRYPTION_KEYS: key k1 is weak (not random bytes); generate one with openssl rand -base64 32',
    ]);
    expect(
      problemsOf({ NODE_ENV: 'production', JWT_SECRET, DATA_ENCRYPTION_KEYS: `k1:${key(Buffer.alloc(32))}` }),
    ).toHaveLength(1);
    expect(loadConfig({ NODE_ENV: 'test', DATA_ENCRYPTION_KEYS: weak }).warnings).toContain(
      'DATA_ENCRYPTION_KEYS: key k1 is weak (not random bytes): production would refuse it',
    );
  });

  it('is generated once in development and kept in ./.data/data-encryption-keys, readable by its owner only', () => {
    inTemporaryDirectory((dir) => {
      const first = loadConfig({ NODE_ENV: 'development' });
      expect(first.warnings).toContain(
        `DATA_ENCRYPTION_KEYS is not set: generated a development key into ${DEVELOPMENT_KEYS_FILE}`,
      );
      const file = join(dir, DEVELOPMENT_KEYS_FILE);
      expect(readFileSync(file, 'utf8').trim()).toBe(first.config.DATA_ENCRYPTION_KEYS);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(first.config.dataEncryptionKeys).toEqual([{ id: 'dev', key: expect.any(Buffer) }]);

      const second = loadConfig({ NODE_ENV: 'development' });
      expect(second.config.DATA_ENCRYPTION_KEYS).toBe(first.config.DATA_ENCRYPTION_KEYS);
      expect(second.warnings.filter((warning) => warning.includes('DATA_ENCRYPTION_KEYS'))).toEqual([]);

      writeFileSync(file, 'garbage');
      expect(problemsOf({ NODE_ENV: 'development' })).toEqual([
        `DATA_ENCRYPTION_KEYS is not set and ${DEVELOPMENT_KEYS_FILE} holds no valid key: delete the file to have one generated`,
      ]);
    });
  });

  it('is generated per process in test, with a warning, like JWT_SECRET', () => {
    const first = loadConfig({ NODE_ENV: 'test' });
    expect(first.warnings).toContain(
      'DATA_ENCRYPTION_KEYS is not set: generated one, so sealed secrets will not survive a restart',
    );
    expect(first.config.dataEncryptionKeys).toHaveLength(1);
    expect(loadConfig({ NODE_ENV: 'test' }).config.DATA_ENCRYPTION_KEYS).not.toBe(first.config.DATA_ENCRYPTION_KEYS);
  });
});

describe('JWT_PREVIOUS_SECRETS', () => {
  const DATA_ENCRYPTION_KEYS = `k1:${key()}`;

  it('lists former secrets, comma-separated, apart from the current one', () => {
    const { config } = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET,
      DATA_ENCRYPTION_KEYS,
      JWT_PREVIOUS_SECRETS: `${'b'.repeat(32)}, ${'c'.repeat(40)}`,
    });
    expect(config.jwtSecret).toBe(JWT_SECRET);
    expect(config.jwtPreviousSecrets).toEqual(['b'.repeat(32), 'c'.repeat(40)]);
    expect(loadConfig({ NODE_ENV: 'test' }).config.jwtPreviousSecrets).toEqual([]);
  });

  it('holds each to 32 bytes in production only', () => {
    expect(
      problemsOf({
        NODE_ENV: 'production',
        JWT_SECRET,
        DATA_ENCRYPTION_KEYS,
        JWT_PREVIOUS_SECRETS: `short,${'b'.repeat(32)}`,
      }),
    ).toEqual(['JWT_PREVIOUS_SECRETS: 1 secret(s) shorter than 32 bytes']);
    expect(loadConfig({ NODE_ENV: 'test', JWT_PREVIOUS_SECRETS: 'short' }).config.jwtPreviousSecrets).toEqual([
      'short',
    ]);
  });
});

describe('JWT_SECRET in development', () => {
  it('is generated once into ./.data/dev-jwt-secret, readable by its owner only, and reused, with a line saying which', () => {
    inTemporaryDirectory((dir) => {
      const first = loadConfig({ NODE_ENV: 'development' });
      const file = join(dir, DEVELOPMENT_JWT_SECRET_FILE);
      expect(first.config.jwtSecret).toBe(readFileSync(file, 'utf8').trim());
      expect(Buffer.byteLength(first.config.jwtSecret)).toBeGreaterThanOrEqual(32);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(first.warnings).toContain(
        `JWT_SECRET is not set: generated a development secret into ${DEVELOPMENT_JWT_SECRET_FILE}, kept across restarts`,
      );

      const second = loadConfig({ NODE_ENV: 'development' });
      expect(second.config.jwtSecret).toBe(first.config.jwtSecret);
      expect(second.warnings).toContain(
        `JWT_SECRET is not set: using the development secret kept in ${DEVELOPMENT_JWT_SECRET_FILE}`,
      );
      expect(
        [...first.warnings, ...second.warnings].filter((warning) => warning.includes(first.config.jwtSecret)),
      ).toEqual([]);

      // Set, it wins; a file too short to be a secret is refused, not used.
      expect(loadConfig({ NODE_ENV: 'development', JWT_SECRET }).config.jwtSecret).toBe(JWT_SECRET);
      writeFileSync(file, 'short\n');
      expect(problemsOf({ NODE_ENV: 'development' })).toEqual([
        `JWT_SECRET is not set and ${DEVELOPMENT_JWT_SECRET_FILE} holds no secret of 32 bytes: delete the file to have one generated`,
      ]);
    });
  });

  it('is generated per start, with a warning, where ./.data/ cannot be written', () => {
    inTemporaryDirectory((dir) => {
      writeFileSync(join(dir, '.data'), 'a file where the directory would go');
      const first = loadConfig({ NODE_ENV: 'development' });
      const second = loadConfig({ NODE_ENV: 'development' });
      expect(first.config.jwtSecret).not.toBe(second.config.jwtSecret);
      expect(first.warnings).toContain(
        `JWT_SECRET is not set and ${DEVELOPMENT_JWT_SECRET_FILE} cannot be written: generated a random one, so tokens will not survive a restart`,
      );
    });
  });
});
