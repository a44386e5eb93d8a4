// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { markedFiles } from '../support/database-independent';

const root = `${__dirname}/../..`;

/** What a test uses to reach a database or Redis: a file that mentions one is not database-independent. */
const BACKEND_USE =
  /\b(startTestApp|startMailApp|spawnApp|createTestDatabase|usingPostgres|TEST_DATABASE_URL|TEST_REDIS_URL|DATABASE_URL|DATABASE_EMBEDDED_PATH|REDIS_URL|throwawayDatabase|persistentDatabase|startStandaloneDatabase|startBurstRig|scriptRunner|isolationCases|createApp|createDataSource|ioredis)\b|from 'pg'/;

describe('test files marked @database-independent (left out of CI second pass on PostgreSQL and Redis)', () => {
  const marked = markedFiles('database-independent').map((file) => relative(root, file));

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

/**
 * What makes a file follow the pass it runs in: TEST_DATABASE_URL and TEST_REDIS_URL, and the helpers that read them.
 * An app of an @embedded-only file names its database: `startTestApp(env, embeddedDatabase())`.
 */
const PASS_DEPENDENT =
  /\b(createTestDatabase|usingPostgres|TEST_DATABASE_URL|TEST_REDIS_URL|redisUrl|redisStreamsEnv|startMailApp|throwawayDatabase|persistentDatabase|isolationCases|startBurstRig)\b|\bstartTestApp\((?![^;]*embeddedDatabase\(\))/;

describe('test files marked @embedded-only (left out of CI second pass on PostgreSQL and Redis)', () => {
  const marked = markedFiles('embedded-only').map((file) => relative(root, file));

  it('are found', () => {
    expect(marked).toEqual(expect.arrayContaining(['test/process.test.ts', 'test/platform/embedded-template.test.ts']));
  });

  it('never reach the database or Redis the pass names', () => {
    // The mark's own line names TEST_DATABASE_URL, to say it is not read.
    const code = (file: string) => readFileSync(`${root}/${file}`, 'utf8').replace(/^.*@embedded-only.*$/m, '');
    const using = marked.filter((file) => PASS_DEPENDENT.test(code(file)));
    expect(using).toEqual([]);
  });

  it('fail the check when they start an app on the database of the pass', () => {
    expect(PASS_DEPENDENT.test(`const api = await startTestApp({ A: '1' });`)).toBe(true);
    expect(PASS_DEPENDENT.test(`const api = await startTestApp({ A: '1' }, embeddedDatabase());`)).toBe(false);
    expect(PASS_DEPENDENT.test(`if (usingPostgres) return;`)).toBe(true);
  });
});
