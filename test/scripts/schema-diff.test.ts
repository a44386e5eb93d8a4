// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { isRecorded, schemaChanges, unreleasedBreakingEntries } from '../../scripts/schema-changes';
import { inheritedEnv, type ScriptResult } from '../support/child-process';

const root = resolve(__dirname, '../..');
const script = join(root, 'scripts/schema-diff.ts');
/** The commit that made `User.email` nullable, recording it under Breaking in the same commit. */
const USER_EMAIL_NULLABLE = '1a0ad21a9252c58f76ffc79123275573bd034955';

const BEFORE = `
type Query { projects(status: String, first: Int): [Project!]! }
type Project { id: ID!  name: String!  archivedAt: String  status: Status! }
enum Status { ACTIVE ARCHIVED }
`;
const REMOVED_FIELD = BEFORE.replace('  archivedAt: String', '');
const NARROWED_ARGUMENT = BEFORE.replace('projects(status: String,', 'projects(status: String!,');
const ADDED_ENUM_VALUE = BEFORE.replace('enum Status { ACTIVE ARCHIVED }', 'enum Status { ACTIVE ARCHIVED DELETED }');

const changelog = (breaking: string[], rest = '') =>
  `# Changelog\n\n## [Unreleased]\n\n### Breaking\n\n${breaking.map((entry) => `- ${entry}\n`).join('')}\n### Added\n\n- \`Query.projects\` lists.\n${rest}`;

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env: { ...process.env, ...GIT_ENV }, stdio: 'pipe' }).toString();

/** `npm run schema:diff -- args` in `cwd`, as npm runs it; never rejects on a non-zero exit. */
function schemaDiff(cwd: string, ...args: string[]): Promise<ScriptResult> {
  return promisify(execFile)(process.execPath, ['-r', require.resolve('@swc-node/register'), script, ...args], {
    cwd,
    env: inheritedEnv(),
  }).then(
    (result) => ({ code: 0, ...result }),
    (error: ScriptResult) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

/** A throwaway repository with one commit per schema (each with the CHANGELOG given beside it). */
function repository(commits: { schema: string; changelog?: string; tag?: string }[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'gw-schema-diff-'));
  git(dir, 'init', '--quiet', '--initial-branch=main');
  for (const [index, commit] of commits.entries()) {
    writeFileSync(join(dir, 'schema.graphql'), commit.schema);
    writeFileSync(join(dir, 'CHANGELOG.md'), commit.changelog ?? changelog([]));
    git(dir, 'add', '.');
    git(dir, 'commit', '--quiet', '--allow-empty', '-m', `commit ${index + 1}`);
    if (commit.tag) git(dir, 'tag', commit.tag);
  }
  return dir;
}

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
function tracked(dir: string): string {
  made.push(dir);
  return dir;
}

describe('schema changes, classified by graphql-inspector', () => {
  it('calls a removed field breaking, named Type.field', async () => {
    expect(await schemaChanges(BEFORE, REMOVED_FIELD)).toEqual([
      {
        level: 'breaking',
        coordinate: 'Project.archivedAt',
        message: expect.stringMatching(/archivedAt.*removed/),
        reason: expect.any(String),
      },
    ]);
  });

  it('calls an argument narrowed from nullable to non-null breaking, named by its field', async () => {
    expect(await schemaChanges(BEFORE, NARROWED_ARGUMENT)).toEqual([
      expect.objectContaining({
        level: 'breaking',
        coordinate: 'Query.projects',
        message: expect.stringMatching(/status.*'String'.*'String!'/),
      }),
    ]);
  });

  it('calls an added enum value dangerous, not breaking', async () => {
    expect(await schemaChanges(BEFORE, ADDED_ENUM_VALUE)).toEqual([
      expect.objectContaining({
        level: 'dangerous',
        coordinate: 'Status.DELETED',
        message: expect.stringMatching(/DELETED.*added/),
      }),
    ]);
  });
});

describe("CHANGELOG.md's record of a breaking change", () => {
  const real = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');

  it('is a code span under ### Breaking of ## [Unreleased], in the shape CHANGELOG.md has', () => {
    expect(unreleasedBreakingEntries(real).length).toBeGreaterThan(0);
    const released = `${changelog(['`Project.archivedAt` is gone.'])}\n## [0.1.0] - 2026-01-01\n\n### Breaking\n\n- \`Project.name\` was removed.\n`;
    expect(unreleasedBreakingEntries(released)).toEqual(['Project.archivedAt']);
    expect(unreleasedBreakingEntries(changelog([]))).toEqual([]);
  });

  it('names the coordinate itself, or it followed by no more of a name', () => {
    expect(isRecorded('User.email', ['User.email'])).toBe(true);
    expect(isRecorded('Query.projects', ['Query.projects(status: String!)'])).toBe(true);
    expect(isRecorded('User.email', ['User.email: String'])).toBe(true);
    expect(isRecorded('User.email', ['User.emails'])).toBe(false);
    expect(isRecorded('User.email', ['User'])).toBe(false);
    expect(isRecorded('User', ['User.email'])).toBe(false);
  });
});

describe('npm run schema:diff', () => {
  it('fails on an unrecorded removed field, naming it, and passes once CHANGELOG.md records it under Unreleased → Breaking', async () => {
    const dir = tracked(repository([{ schema: BEFORE }, { schema: REMOVED_FIELD }]));

    const unrecorded = await schemaDiff(dir);
    expect(unrecorded.code).toBe(1);
    expect(unrecorded.stdout).toContain('against HEAD~1 (no tag: the previous commit');
    expect(unrecorded.stdout).toMatch(/BREAKING\s+Project\.archivedAt: .*NOT RECORDED/);
    expect(unrecorded.stderr).toContain('breaking change to Project.archivedAt not recorded in CHANGELOG.md');

    // Named elsewhere (under Added, or under a released version's Breaking) is not recorded.
    writeFileSync(
      join(dir, 'CHANGELOG.md'),
      changelog(
        ['`Project.name` is longer.'],
        '- `Project.archivedAt` is gone.\n\n## [0.1.0]\n\n### Breaking\n\n- `Project.archivedAt`\n',
      ),
    );
    expect((await schemaDiff(dir)).code).toBe(1);

    writeFileSync(join(dir, 'CHANGELOG.md'), changelog(['`Project.archivedAt` is gone: read `status` instead.']));
    const recorded = await schemaDiff(dir);
    expect(recorded).toMatchObject({ code: 0, stderr: '' });
    expect(recorded.stdout).toMatch(/BREAKING\s+Project\.archivedAt: .*recorded in CHANGELOG.md/);
  }, 60_000);

  it('fails on a narrowed argument and passes with an added enum value, which it prints as dangerous', async () => {
    const narrowed = tracked(repository([{ schema: BEFORE }, { schema: NARROWED_ARGUMENT }]));
    const failed = await schemaDiff(narrowed);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('breaking change to Query.projects not recorded');

    const added = tracked(repository([{ schema: BEFORE }, { schema: ADDED_ENUM_VALUE }]));
    const passed = await schemaDiff(added);
    expect(passed.code).toBe(0);
    expect(passed.stdout).toMatch(
      /0 breaking, 1 dangerous, 0 safe\n\s+DANGEROUS Status\.DELETED: Enum value 'DELETED' was added/,
    );
  }, 60_000);

  it('compares with the latest tag by default, with the previous commit when there is none, and passes a first commit', async () => {
    const tagged = tracked(
      repository([{ schema: BEFORE, tag: 'v0.1.0' }, { schema: REMOVED_FIELD }, { schema: REMOVED_FIELD }]),
    );
    const sinceTag = await schemaDiff(tagged);
    expect(sinceTag.code).toBe(1);
    expect(sinceTag.stdout).toContain('against v0.1.0 (the latest tag');
    expect((await schemaDiff(tagged, 'HEAD~1')).code).toBe(0);

    const first = tracked(repository([{ schema: BEFORE }]));
    expect(await schemaDiff(first)).toEqual({
      code: 0,
      stdout: 'schema:diff: no tag and no previous commit (the first commit): nothing to compare\n',
      stderr: '',
    });
    expect(await schemaDiff(first, 'nope')).toMatchObject({
      code: 2,
      stderr: 'schema:diff: nope is not a commit or tag here\n',
    });
  }, 60_000);

  it("passes this repository's real breaking change, recorded with it, and fails it with the record taken out", async () => {
    const real = await schemaDiff(root, `${USER_EMAIL_NULLABLE}~1`, USER_EMAIL_NULLABLE);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(
      /: 1 breaking, 0 dangerous, \d+ safe\n\s+BREAKING\s+User\.email: Field 'User\.email' changed type from 'String!' to 'String'\s+\[recorded in CHANGELOG.md\]/,
    );

    const clone = tracked(mkdtempSync(join(tmpdir(), 'gw-schema-diff-clone-')));
    git(clone, 'clone', '--quiet', '--no-checkout', root, '.');
    git(clone, 'checkout', '--quiet', USER_EMAIL_NULLABLE);
    const file = join(clone, 'CHANGELOG.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('`User.email` is `String`', 'The email is `String`'));
    const unrecorded = await schemaDiff(clone);
    expect(unrecorded.code).toBe(1);
    expect(unrecorded.stderr).toContain('breaking change to User.email not recorded in CHANGELOG.md');
  }, 60_000);
});
