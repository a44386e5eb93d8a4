import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  clashes,
  exportNames,
  identifierClashes,
  migrationTables,
  migrationTimestamps,
  nameProblems,
  type Existing,
} from './module-template/checks';
import { inputsFile, resolverFile, typesFile } from './module-template/graphql';
import { KEBAB, moduleNames, type ModuleNames } from './module-template/names';
import { entityFile, migrationFile, repositoryFile } from './module-template/record';
import { eventsFile, serviceFile } from './module-template/service';
import { apiTestFile, isolationCasesFile } from './module-template/tests';
import { indexFile, moduleFile, registerModule } from './module-template/wiring';

/**
 * `npm run gen:module -- <name> [--singular <word>]`: writes src/modules/<name>/
 * (an organization-owned record with a name and a description, in the module
 * pattern of docs/adding-a-module.md), registers it in src/modules/index.ts,
 * and writes its API test and its tenant-isolation cases. It checks everything
 * first and writes nothing when any check fails (exit 1).
 */
const root = resolve(__dirname, '..');
const REGISTRY = 'src/modules/index.ts';
const USAGE =
  'usage: npm run gen:module -- <name> [--singular <word>]   (name: kebab-case plural, e.g. labels or time-entries)';

/** Why gen:module writes nothing: each problem it found. */
export class Refusal extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

function parseArgs(argv: string[]): { module: string; singular?: string } {
  const positional: string[] = [];
  let singular: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--singular') {
      singular = argv[(i += 1)] ?? '';
      if (singular.startsWith('-')) singular = '';
    } else if (arg.startsWith('--singular=')) singular = arg.slice('--singular='.length);
    else if (arg.startsWith('-')) throw new Refusal([`unknown option ${arg}`, USAGE]);
    else positional.push(arg);
  }
  if (singular === '') throw new Refusal(['--singular needs a word', USAGE]);
  if (positional.length !== 1) throw new Refusal([USAGE]);
  return { module: positional[0], singular };
}

/** Every file of the module, by path from the root: the sources, the migration, the API test and the isolation cases. */
function render(n: ModuleNames, timestamp: number): Map<string, string> {
  const dir = `src/modules/${n.module}`;
  return new Map([
    [`${dir}/${n.kebab}.entity.ts`, entityFile(n)],
    [`${dir}/migrations/${timestamp}-${n.module}.ts`, migrationFile(n, timestamp)],
    [`${dir}/${n.module}.repository.ts`, repositoryFile(n)],
    [`${dir}/${n.kebab}.events.ts`, eventsFile(n)],
    [`${dir}/${n.module}.service.ts`, serviceFile(n)],
    [`${dir}/${n.kebab}.inputs.ts`, inputsFile(n)],
    [`${dir}/${n.kebab}.types.ts`, typesFile(n)],
    [`${dir}/${n.module}.resolver.ts`, resolverFile(n)],
    [`${dir}/${n.module}.module.ts`, moduleFile(n, timestamp)],
    [`${dir}/index.ts`, indexFile(n)],
    [`test/api/${n.module}.test.ts`, apiTestFile(n)],
    [`test/api/isolation/${n.module}.cases.ts`, isolationCasesFile(n)],
  ]);
}

/** What the app has now, read from the code itself (the schema it builds, its catalogs and entities), not from files that may lag. */
function existing(): Promise<Existing> {
  // Loaded only once the name passed the cheap checks: it builds the whole schema. require(), since under
  // module node16 TypeScript takes import() of a relative path as an ES module import, which needs an extension.
  /* eslint-disable @typescript-eslint/no-require-imports -- lazy loads, typed through typeof import */
  const { buildApiSchema } = require('../src/app') as typeof import('../src/app');
  const { eventTypes } = require('../src/modules') as typeof import('../src/modules');
  const { getMetadataArgsStorage } = require('typeorm') as typeof import('typeorm');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return buildApiSchema().then((schema) => ({
    types: new Set(Object.keys(schema.getTypeMap())),
    queries: new Set(Object.keys(schema.getQueryType()?.getFields() ?? {})),
    mutations: new Set(Object.keys(schema.getMutationType()?.getFields() ?? {})),
    eventTypes: new Set(eventTypes.entries.map((entry) => entry.type)),
    tables: new Set([
      ...getMetadataArgsStorage().tables.flatMap((table) => (table.name ? [table.name] : [])),
      ...migrationTables(root),
      'migrations',
    ]),
    exportNames: new Set(exportNames(root)),
  }));
}

/**
 * The files to write and the registry's new text, after every check; a Refusal lists each problem found. Writes
 * nothing itself (main writes what it answers): the refusal tests call it in their own process.
 */
export async function plan(argv: string[]): Promise<{ n: ModuleNames; files: Map<string, string> }> {
  const args = parseArgs(argv);
  if (!KEBAB.test(args.module)) {
    throw new Refusal([
      `"${args.module}" is not a module name: lower-case kebab-case, ^[a-z][a-z0-9-]*$ without a leading, trailing or double hyphen (labels, time-entries)`,
    ]);
  }
  let n: ModuleNames;
  try {
    n = moduleNames(args.module, args.singular);
  } catch (error) {
    throw new Refusal([(error as Error).message]);
  }
  const problems = nameProblems(n);
  if (existsSync(join(root, 'src/modules', n.module)))
    problems.push(`the module src/modules/${n.module} exists already`);
  if (problems.length > 0) throw new Refusal(problems);

  // After every migration there is, whatever the clock says: TypeORM runs them by timestamp and the list must follow the registry.
  const timestamp = Math.max(Date.now(), ...migrationTimestamps(root).map((stamp) => stamp + 1));
  const files = render(n, timestamp);
  problems.push(
    ...[...files.keys()].filter((path) => existsSync(join(root, path))).map((path) => `${path} exists already`),
  );
  problems.push(...identifierClashes(files));
  try {
    files.set(REGISTRY, registerModule(readFileSync(join(root, REGISTRY), 'utf8'), n));
  } catch (error) {
    problems.push((error as Error).message);
  }
  try {
    problems.push(...clashes(n, await existing()));
  } catch (error) {
    problems.push(`the app's schema does not build, so clashes cannot be checked: ${(error as Error).message}`);
  }
  if (problems.length > 0) throw new Refusal(problems);
  return { n, files };
}

/** The files as `npm run format` would leave them (.prettierrc), so a new module passes format:check untouched. */
async function formatted(files: Map<string, string>): Promise<Map<string, string>> {
  // Loaded only to write: prettier's CommonJS entry starts a dynamic import() on load, which jest (the refusal tests
  // import plan() from here) does not run.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load, typed through typeof import
  const { format, resolveConfig } = require('prettier') as typeof import('prettier');
  const result = new Map<string, string>();
  for (const [path, text] of files) {
    const filepath = join(root, path);
    result.set(path, await format(text, { ...(await resolveConfig(filepath)), filepath }));
  }
  return result;
}

/** Writes every file; if one write fails, the ones written are removed and the registry restored. */
function write(files: Map<string, string>): void {
  const registry = readFileSync(join(root, REGISTRY), 'utf8');
  const written: string[] = [];
  try {
    for (const [path, text] of files) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
      written.push(path);
    }
  } catch (error) {
    for (const path of written) if (path !== REGISTRY) rmSync(join(root, path), { force: true });
    writeFileSync(join(root, REGISTRY), registry);
    throw error;
  }
}

async function main(): Promise<void> {
  let planned: Awaited<ReturnType<typeof plan>>;
  try {
    planned = await plan(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    process.stderr.write(
      `gen:module: nothing was written:\n${error.problems.map((problem) => `  - ${problem}`).join('\n')}\n`,
    );
    process.exit(1);
  }
  const { n, files } = planned;
  write(await formatted(files));
  const lines = [...files.keys()].map((path) => `  ${path === REGISTRY ? 'changed' : 'wrote  '} ${path}`);
  process.stdout.write(
    `gen:module ${n.module}: the record ${n.Name} (${n.name}, ${n.names}; table ${n.table}; events ${n.snake}.created/updated/deleted)\n${lines.join('\n')}\n` +
      'next: npm run schema:export (schema.graphql gains the module), then npm run typecheck, npm run arch:check and npm test\n',
  );
}

// Run as a script (npm run gen:module); imported, it only lends plan() and Refusal.
if (require.main === module) void main();
