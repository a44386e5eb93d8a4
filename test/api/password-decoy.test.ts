// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import crypto from 'node:crypto';
import { IdentityService } from '../../src/modules/identity/identity.service';
import { decoyHash, hashPassword, needsRehash, verifyPassword } from '../../src/modules/identity/passwords';

// 2^12 keeps each scrypt at 4 MiB and a few ms; production's cost is 17 (128 MiB while it runs).
const COST = 12;

/** The N of each scrypt that `work` runs. */
async function scryptCosts(work: () => unknown): Promise<number[]> {
  const spy = jest.spyOn(crypto, 'scrypt');
  try {
    await work();
    return spy.mock.calls.map((call) => (call[3] as crypto.ScryptOptions).N!);
  } finally {
    spy.mockRestore();
  }
}

describe('the decoy hash an unknown email is checked against', () => {
  it('is a stored hash at the configured cost that no password matches', async () => {
    const decoy = decoyHash(COST);
    expect(needsRehash(decoy, COST)).toBe(false);
    expect(needsRehash(decoy, COST + 1)).toBe(true);
    expect(decoy).not.toBe(decoyHash(COST));
    await expect(verifyPassword('decoy password for unknown emails', decoy)).resolves.toBe(false);
    await expect(verifyPassword('', decoy)).resolves.toBe(false);
  });

  it('costs the same scrypt to check as a real hash', async () => {
    const real = await hashPassword('correct horse battery staple', COST);
    const againstReal = await scryptCosts(() => verifyPassword('a wrong password', real));
    const againstDecoy = await scryptCosts(() => verifyPassword('a wrong password', decoyHash(COST)));
    expect(againstReal).toEqual([2 ** COST]);
    expect(againstDecoy).toEqual(againstReal);
  });

  it('is not computed at start-up: building the identity service runs no scrypt', async () => {
    const none = undefined as never;
    const costs = await scryptCosts(() => new IdentityService(none, none, none, none, COST, none, none, none, none));
    expect(costs).toEqual([]);
  });
});
