import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isRecorded, schemaChanges, unreleasedBreakingEntries, type SchemaChange } from './schema-changes';

const SCHEMA = 'schema.graphql';
const CHANGELOG = 'CHANGELOG.md';
const USAGE =
  'usage: npm run schema:diff -- [<base-ref> [<head-ref>]]   (base: the latest tag, else the previous commit; head: the work tree)';

/**
 * `npm run schema:diff -- [<base-ref> [<head-ref>]]`: schema.graphql as it
 * is in the work tree (or at <head-ref>) against the one at <base-ref>.
 * Prints every breaking and dangerous change; exits 1 when a breaking one is
 * not named under `### Breaking` in the `## [Unreleased]` section of
 * CHANGELOG.md (of the work tree, or at <head-ref>), 2 when it cannot compare.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((arg) => arg !== '--');
  if (args.length > 2 || args.some((arg) => arg.startsWith('-'))) stop(2, USAGE);
  if (git('rev-parse', '--is-inside-work-tree') !== 'true')
    stop(2, 'schema:diff: not inside a git work tree, so there is no earlier schema to compare with');

  const base = args[0] === undefined ? defaultBase() : { ref: args[0], why: 'given' };
  if (!base) return;
  const commit = git('rev-parse', '--verify', '--quiet', `${base.ref}^{commit}`);
  if (!commit) stop(2, `schema:diff: ${base.ref} is not a commit or tag here`);
  const before = git('show', `${commit}:./${SCHEMA}`);
  if (before === undefined) {
    process.stdout.write(`${SCHEMA} did not exist at ${base.ref}: nothing to compare\n`);
    return;
  }
  const head = args[1] === undefined ? undefined : git('rev-parse', '--verify', '--quiet', `${args[1]}^{commit}`);
  if (args[1] !== undefined && !head) stop(2, `schema:diff: ${args[1]} is not a commit or tag here`);
  // A file that is not there reads as empty: no CHANGELOG.md records nothing.
  const read = (file: string) =>
    head ? (git('show', `${head}:./${file}`) ?? '') : existsSync(file) ? readFileSync(file, 'utf8') : '';

  const changes = await schemaChanges(before, read(SCHEMA));
  const breaking = changes.filter((change) => change.level === 'breaking');
  const dangerous = changes.filter((change) => change.level === 'dangerous');
  const entries = unreleasedBreakingEntries(read(CHANGELOG));
  const unrecorded = breaking.filter((change) => !isRecorded(change.coordinate, entries));

  process.stdout.write(
    `${SCHEMA}${head ? ` at ${args[1]}` : ''} against ${base.ref} (${base.why}, ${commit.slice(0, 12)}): ` +
      `${breaking.length} breaking, ${dangerous.length} dangerous, ${changes.length - breaking.length - dangerous.length} safe\n`,
  );
  for (const change of breaking)
    process.stdout.write(
      line(change, isRecorded(change.coordinate, entries) ? 'recorded in CHANGELOG.md' : 'NOT RECORDED'),
    );
  for (const change of dangerous) process.stdout.write(line(change));
  if (unrecorded.length === 0) return;

  const names = [...new Set(unrecorded.map((change) => change.coordinate))];
  stop(
    1,
    [
      `schema:diff: breaking change${names.length > 1 ? 's' : ''} to ${names.join(', ')} not recorded in ${CHANGELOG}.`,
      `Deprecate first (@deprecated(reason: "...")) and remove in a later release; a breaking change that must ship now`,
      `is listed under "## [Unreleased]" -> "### Breaking" naming it in backticks (${names.map((name) => `\`${name}\``).join(', ')}), with what clients must do.`,
    ].join('\n'),
  );
}

/** The latest tag reachable from HEAD, else the previous commit; undefined (after saying why) when there is neither. */
function defaultBase(): { ref: string; why: string } | undefined {
  const tag = git('describe', '--tags', '--abbrev=0', 'HEAD');
  if (tag) return { ref: tag, why: 'the latest tag' };
  if (git('rev-parse', '--verify', '--quiet', 'HEAD~1^{commit}'))
    return { ref: 'HEAD~1', why: 'no tag: the previous commit' };
  const shallow = git('rev-parse', '--is-shallow-repository') === 'true';
  process.stdout.write(
    shallow
      ? 'schema:diff: no tag and no previous commit in this shallow clone (git fetch --unshallow): nothing to compare\n'
      : 'schema:diff: no tag and no previous commit (the first commit): nothing to compare\n',
  );
  return undefined;
}

function line(change: SchemaChange, note?: string): string {
  const label = change.level === 'breaking' ? 'BREAKING ' : 'DANGEROUS';
  return `  ${label} ${change.coordinate}: ${change.message}${note ? `  [${note}]` : ''}\n`;
}

/** git's trimmed output, or undefined when it fails. */
function git(...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    }).trim();
  } catch {
    return undefined;
  }
}

function stop(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

void main();
