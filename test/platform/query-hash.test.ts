import { createHash } from 'node:crypto';
import * as apolloHashing from '@apollo/utils.createhash';
import { queryHashRemembered, rememberQueryHashes, rememberedQueryHashes } from '../../src/platform/graphql/query-hash';
import { startTestApp } from '../support/test-app';
import { embeddedDatabase } from '../support/test-database';

/**
 * Apollo's createHash, replaced: the digest of a query text is remembered
 * (Apollo hashes every request's query to find its parsed document), and
 * every answer is the one crypto gives, whatever the use.
 */
const sha = (algorithm: string, data: string | Buffer, encoding: 'hex' | 'base64' = 'hex') =>
  createHash(algorithm).update(data).digest(encoding);

// First: nothing but the server installs the hash before it.
it("is the hash Apollo uses for every request's query once the server starts", async () => {
  const api = await startTestApp({}, embeddedDatabase());
  try {
    const query = `{ __typename remembered${Date.now()}: __typename }`;
    expect(queryHashRemembered(query)).toBe(false);
    expect((await api.gql(query)).body.data).toBeDefined();
    expect(queryHashRemembered(query)).toBe(true);
  } finally {
    await api.stop();
  }
});

// Installed by the server above already; installing again changes nothing.
describe('the hash', () => {
  beforeAll(() => rememberQueryHashes());

  it('answers what crypto answers, for one text or several parts, a Buffer, another encoding or algorithm', () => {
    const { createHash: apollo } = apolloHashing;
    expect(apollo('sha256').update('{ me { id } }').digest('hex')).toBe(sha('sha256', '{ me { id } }'));
    expect(apollo('sha256').update('{ me ').update('{ id } }').digest('hex')).toBe(sha('sha256', '{ me { id } }'));
    expect(apollo('sha256').update(Buffer.from('abc')).digest('hex')).toBe(sha('sha256', 'abc'));
    expect(apollo('sha256').update('abc').digest('base64')).toBe(sha('sha256', 'abc', 'base64'));
    expect((apollo('sha256').update('abc') as unknown as { digest(): Buffer }).digest()).toEqual(
      createHash('sha256').update('abc').digest(),
    );
    expect(apollo('sha512').update('abc').digest('hex')).toBe(sha('sha512', 'abc'));
  });

  it('remembers a text once, leaves long texts out, and keeps at most 1,000', () => {
    const { createHash: apollo } = apolloHashing;
    const before = rememberedQueryHashes();
    const text = `{ remembered${Math.random()} }`;
    apollo('sha256').update(text).digest('hex');
    expect(apollo('sha256').update(text).digest('hex')).toBe(sha('sha256', text));
    expect(rememberedQueryHashes()).toBe(before + 1);
    const long = `{ ${'a'.repeat(5000)} }`;
    expect(apollo('sha256').update(long).digest('hex')).toBe(sha('sha256', long));
    expect(rememberedQueryHashes()).toBe(before + 1);
    for (let i = 0; i < 1100; i += 1)
      expect(apollo('sha256').update(`{ q${i} }`).digest('hex')).toBe(sha('sha256', `{ q${i} }`));
    expect(rememberedQueryHashes()).toBe(1000);
  });
});
