import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type KeptSecret = { value: string; generated: boolean } | { unwritable: true };

/**
 * A development secret kept in `file` (under the git-ignored ./.data/, readable by its owner only):
 * read when it is there, else generated once and linked into place whole, so two processes starting at once agree on one.
 */
export function keptDevelopmentSecret(file: string, generate: () => string): KeptSecret {
  const draft = `${file}.${process.pid}`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(draft, `${generate()}\n`, { mode: 0o600 });
  } catch {
    return { unwritable: true };
  }
  let generated = false;
  try {
    linkSync(draft, file);
    generated = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return { unwritable: true };
  } finally {
    rmSync(draft, { force: true });
  }
  return { value: readFileSync(file, 'utf8').trim(), generated };
}
