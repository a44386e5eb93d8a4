// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { databaseIndependentFiles } from '../support/database-independent';

const root = `${__dirname}/../..`;

/** What a test uses to reach a database or Redis: a file that mentions one is not database-independent. */
const BACKEND_USE =
  /\b(startTestApp|startMailApp|spawnApp|createTestDatabase|usingPostgres|TEST_DATABASE_URL|TEST_REDIS_URL|DATABASE_URL|DATABASE_EMBEDDED_PATH|REDIS_URL|throwawayDatabase|persistentDatabase|startStandaloneDatabase|startBurstRig|scriptRunner|isolationCases|createApp|createDataSource|ioredis)\b|from 'pg'/;

describe('test files marked @database-independent (left out of CI second pass on PostgreSQL and Redis)', () => {
  const marked = databaseIndependentFiles().map((file) => relative(root, file));

  it('are found, the slowest of them included', () => {
    expect(marked).toEqual(expect.arrayContaining(['test/scripts/gen-module.test.ts', 'test/architecture.test.ts']));
  });

  it('use no database and no Redis', () => {
    const others = marked.filter((file) => file !== 'test/ci/database-independent.test.ts');
    const using = others.filter((file) => BACKEND_USE.test(readFileSync(`${root}/${file}`, 'utf8')));
    expect(using).toEqual([]);
  });

  it('are left out only when TEST_DATABASE_DEPENDENT_ONLY=1, which .ci/run sets for its PostgreSQL pass', () => {
    const ci = readFileSync(`${root}/.ci/run`, 'utf8');
    expect(ci).toMatch(/TEST_DATABASE_DEPENDENT_ONLY=1 \\\n(.*\\\n)*\s*npm test\n/);
  });
});
