import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;

interface ScryptParameters {
  logN: number;
  r: number;
  p: number;
}

function derive(password: string, salt: Buffer, params: ScryptParameters, keyLength: number): Promise<Buffer> {
  const N = 2 ** params.logN;
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 128 * N * params.r * 2 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFKC'), salt, keyLength, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * scrypt with a per-user salt, stored as `$scrypt$ln=17,r=8,p=1$<salt>$<key>` (base64):
 * the parameters travel with the hash, so raising the cost later keeps old hashes valid.
 */
export async function hashPassword(password: string, logN: number): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const params = { logN, r: BLOCK_SIZE, p: PARALLELISM };
  const key = await derive(password, salt, params, KEY_LENGTH);
  return `$scrypt$ln=${logN},r=${params.r},p=${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * A stored hash no password matches, in hashPassword's format at cost `logN`: a random salt and a random key. Checking
 * a password against it runs the same scrypt as checking a real hash, so an unknown email can cost as much as a wrong
 * password, without a hash computed up front (each scrypt at cost 17 holds 128 MiB while it runs).
 */
export function decoyHash(logN: number): string {
  return `$scrypt$ln=${logN},r=${BLOCK_SIZE},p=${PARALLELISM}$${randomBytes(SALT_LENGTH).toString('base64')}$${randomBytes(KEY_LENGTH).toString('base64')}`;
}

const STORED = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

/** Timing-safe; false for a malformed stored hash rather than an exception. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const match = STORED.exec(stored);
  if (!match) return false;
  const params = { logN: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  const salt = Buffer.from(match[4], 'base64');
  const expected = Buffer.from(match[5], 'base64');
  const actual = await derive(password, salt, params, expected.length);
  return timingSafeEqual(actual, expected);
}

/** Whether a stored hash was made with weaker parameters than today's; the caller may rehash after a good login. */
export function needsRehash(stored: string, logN: number): boolean {
  const match = STORED.exec(stored);
  return !match || Number(match[1]) < logN;
}
