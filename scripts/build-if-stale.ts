import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

/** What `npm run build` reads: the folders and files it compiles, its swc settings, and package.json (the build command itself). */
export const BUILD_INPUTS = ['src', 'scripts', 'ormconfig.ts', '.swcrc', 'package.json'];
const ENTRY = join('dist', 'src', 'main.js');

/**
 * Why dist/ needs building, or undefined when it is current: no dist/src/main.js, or an input (a file, or a folder,
 * whose time changes when a file in it is added, renamed or deleted) changed after the oldest file of dist/.
 */
export function staleReason(root: string): string | undefined {
  if (!existsSync(join(root, ENTRY))) return `${ENTRY} does not exist`;
  const built = Math.min(...[...walk(join(root, 'dist'))].filter(({ file }) => file).map(({ mtimeMs }) => mtimeMs));
  for (const input of BUILD_INPUTS) {
    for (const entry of walk(join(root, input))) {
      if (entry.mtimeMs > built) return `${relative(root, entry.path) || input} changed since the last build`;
    }
  }
  return undefined;
}

function* walk(path: string): Generator<{ path: string; mtimeMs: number; file: boolean }> {
  if (!existsSync(path)) return;
  const stats = statSync(path);
  yield { path, mtimeMs: stats.mtimeMs, file: stats.isFile() };
  if (!stats.isDirectory()) return;
  for (const name of readdirSync(path)) yield* walk(join(path, name));
}

/** `npm start` runs this first: it builds only when dist/ is missing or older than the sources. */
function main(): void {
  const root = resolve(__dirname, '..');
  const reason = staleReason(root);
  if (reason === undefined) return;
  process.stderr.write(`building dist/: ${reason}\n`);
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  process.exit(build.status ?? 1);
}

if (require.main === module) main();
