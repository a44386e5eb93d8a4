import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { inheritedEnv, type ScriptResult } from './child-process';

const root = resolve(__dirname, '../..');

/** What a copy needs to build, check and test itself; node_modules is linked, not copied. */
const COPIED = [
  'src',
  'scripts',
  'test',
  'examples',
  'package.json',
  'tsconfig.json',
  'jest.config.js',
  '.swcrc',
  '.dependency-cruiser.js',
  'ormconfig.ts',
  'schema.graphql',
  'eslint.config.mjs',
  '.prettierrc',
  '.prettierignore',
];

export interface RepositoryCopy {
  dir: string;
  /** Runs a command in the copy with only inheritedEnv(), the test database settings and GRAPHQL_EXECUTOR; never rejects on a non-zero exit. */
  run(command: string, args: string[], timeoutMs?: number): Promise<ScriptResult>;
  /** Every file of the copy (node_modules aside) with a hash of its content: two snapshots differ exactly where a file was written. */
  snapshot(): Map<string, string>;
  remove(): void;
}

/** A throwaway copy of the repository in the temp directory, for scripts that write into the tree. */
export function copyRepository(prefix: string): RepositoryCopy {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const entry of COPIED) cpSync(join(root, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const env = {
    ...inheritedEnv(),
    ...(process.env.TEST_DATABASE_URL ? { TEST_DATABASE_URL: process.env.TEST_DATABASE_URL } : {}),
    ...(process.env.TEST_REDIS_URL ? { TEST_REDIS_URL: process.env.TEST_REDIS_URL } : {}),
    ...(process.env.GRAPHQL_EXECUTOR ? { GRAPHQL_EXECUTOR: process.env.GRAPHQL_EXECUTOR } : {}),
  };
  return {
    dir,
    run: (command, args, timeoutMs = 120_000) =>
      promisify(execFile)(command, args, { cwd: dir, env, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }).then(
        (result) => ({ code: 0, ...result }),
        (error: Error & Partial<ScriptResult>) => ({
          code: error.code ?? 1,
          stdout: error.stdout ?? '',
          stderr: error.stderr ?? String(error),
        }),
      ),
    snapshot() {
      const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter(
        (entry) => entry.isFile() && !relative(dir, entry.parentPath).split(sep).includes('node_modules'),
      );
      return new Map(
        files.map((entry) => {
          const path = join(entry.parentPath, entry.name);
          return [
            relative(dir, path).split(sep).join('/'),
            createHash('sha1').update(readFileSync(path)).digest('hex'),
          ];
        }),
      );
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `git status --porcelain` for two snapshots: `?? path` for a file added, ` M path` changed, ` D path` deleted. */
export function porcelain(before: Map<string, string>, after: Map<string, string>): string[] {
  const added = [...after.keys()].filter((path) => !before.has(path)).map((path) => `?? ${path}`);
  const changed = [...after.keys()]
    .filter((path) => before.has(path) && before.get(path) !== after.get(path))
    .map((path) => ` M ${path}`);
  const deleted = [...before.keys()].filter((path) => !after.has(path)).map((path) => ` D ${path}`);
  return [...added, ...changed, ...deleted].sort((a, b) => a.slice(3).localeCompare(b.slice(3)));
}
