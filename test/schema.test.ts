// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import 'reflect-metadata';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildApiSchema } from '../src/app';
import { migrations } from '../src/modules';
import { printSchemaSDL } from '../src/platform/graphql/schema';

const root = resolve(__dirname, '..');
/** The platform's migrations folder and each module's. */
const migrationDirs = [
  resolve(root, 'src/migrations'),
  ...readdirSync(resolve(root, 'src/modules')).map((module) => resolve(root, 'src/modules', module, 'migrations')),
].filter((dir) => existsSync(dir));

/** Where two texts first part, as a line number and both lines, so a drift reads without a 900-line diff. */
function firstDifference(committed: string, built: string): string {
  const committedLines = committed.split('\n');
  const builtLines = built.split('\n');
  const line = committedLines.findIndex((text, index) => text !== builtLines[index]);
  const at = line === -1 ? committedLines.length : line;
  return `first difference at line ${at + 1}:\n  committed: ${committedLines[at] ?? '(end of file)'}\n  built:     ${builtLines[at] ?? '(end of file)'}`;
}

interface MigrationFile {
  file: string;
  timestamp: number;
  classNames: string[];
}

/** Every migration file (src/migrations, src/modules/<module>/migrations), with the timestamp its name starts with and the classes it exports. */
async function migrationFiles(): Promise<MigrationFile[]> {
  const files = migrationDirs.flatMap((dir) => readdirSync(dir).map((file) => ({ dir, file })));
  return Promise.all(
    files.map(async ({ dir, file }) => {
      const exports = (await import(resolve(dir, file))) as Record<string, unknown>;
      const classNames = Object.values(exports)
        .filter((value): value is Function => typeof value === 'function')
        .map((migrationClass) => migrationClass.name);
      return { file, timestamp: Number(/^(\d+)-.+\.ts$/.exec(file)?.[1]), classNames };
    }),
  );
}

describe('schema.graphql', () => {
  it('matches the schema the code builds', async () => {
    const built = printSchemaSDL(await buildApiSchema());
    const committed = readFileSync(resolve(root, 'schema.graphql'), 'utf8');

    if (built !== committed) {
      throw new Error(
        `schema.graphql is out of date: run \`npm run schema:export\` and commit the result.\n${firstDifference(committed, built)}`,
      );
    }
  });
});

describe('migrations', () => {
  it("every migration file is listed in its module's definition (or the platform's list)", async () => {
    const files = await migrationFiles();
    const byTimestamp = [...files].sort((a, b) => a.timestamp - b.timestamp);
    const listed = migrations.map((migration) => migration.name);

    // A file named otherwise, or exporting no class or two, would slip past the comparison below.
    expect(files.filter((file) => Number.isNaN(file.timestamp)).map((file) => file.file)).toEqual([]);
    expect(
      files.filter((file) => file.classNames.length !== 1).map((file) => `${file.file}: ${file.classNames.join(', ')}`),
    ).toEqual([]);
    expect([...listed].sort()).toEqual(files.map((file) => file.classNames[0]).sort());
    // Oldest first, as TypeORM runs them.
    expect(listed).toEqual(byTimestamp.map((file) => file.classNames[0]));
  });

  it("ends each migration class's name with its file's timestamp, by which TypeORM orders migrations", async () => {
    const files = await migrationFiles();

    expect(
      files.filter((file) => !file.classNames[0]?.endsWith(String(file.timestamp))).map((file) => file.file),
    ).toEqual([]);
  });
});
