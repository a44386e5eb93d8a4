import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModuleNames } from './names';

/** Words JavaScript keeps for itself: the camel names become variables and methods. */
const JS_RESERVED = new Set(
  `arguments await break case catch class const constructor continue debugger default delete do else enum eval export extends false finally for function
   if implements import in instanceof interface let new null package private protected prototype public return static super switch this throw true try
   typeof undefined var void while with yield`.split(/\s+/),
);

/**
 * The identifiers the templates use in the scopes where the camel names are
 * locals, parameters or members (service writes, resolver, build()): one equal
 * to them would shadow or clash.
 */
const TEMPLATE_NAMES = new Set(
  `access byIdLoader changes changesBetween ctx current deleted events field fields id input organization organizationId organizations pageRequest
   parseId plain repository service snapshot tx uow updated value values wanted`.split(/\s+/),
);

/** PostgreSQL's reserved key words: loadKeysetPages writes the table name unquoted. */
const SQL_RESERVED = new Set(
  `all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation column concurrently constraint create
   cross current_catalog current_date current_role current_schema current_time current_timestamp current_user default deferrable desc distinct do else
   end except false fetch for foreign freeze from full grant group having ilike in initially inner intersect into is isnull join lateral leading left
   like limit localtime localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references returning right select
   session_user similar some symmetric system_user table tablesample then to trailing true union unique user using variadic verbose when where window with`.split(
    /\s+/,
  ),
);

/** Folder names under src/modules that are not modules. */
const RESERVED_MODULES = new Set(['index', 'migrations', 'platform', 'shared', 'support', 'test']);

/** PostgreSQL cuts identifiers at 63 bytes; the index name is the longest the migration writes. */
const IDENTIFIER_MAX = 63;

/** Problems the names have on their own, before anything is read. */
export function nameProblems(n: ModuleNames): string[] {
  const problems: string[] = [];
  if (RESERVED_MODULES.has(n.module)) problems.push(`"${n.module}" is reserved under src/modules`);
  for (const word of new Set([n.name, n.names])) {
    if (JS_RESERVED.has(word)) problems.push(`"${word}" is a reserved word of JavaScript`);
    if (TEMPLATE_NAMES.has(word))
      problems.push(
        `"${word}" would clash with a name the generated code uses; pick another module name or --singular`,
      );
  }
  if (SQL_RESERVED.has(n.table)) problems.push(`the table name "${n.table}" is a reserved word of PostgreSQL`);
  const longest = `${n.table}_organization_id_created_at_id_idx`;
  if (longest.length > IDENTIFIER_MAX)
    problems.push(`"${n.module}" is too long: the index name ${longest} is over ${IDENTIFIER_MAX} characters`);
  return problems;
}

/** What the app already has: GraphQL types and root fields, event types, tables, module export names. */
export interface Existing {
  types: Set<string>;
  queries: Set<string>;
  mutations: Set<string>;
  eventTypes: Set<string>;
  tables: Set<string>;
  exportNames: Set<string>;
}

/** The GraphQL names, event types and exports the module would add, each against what exists. */
export function clashes(n: ModuleNames, existing: Existing): string[] {
  const problems: string[] = [];
  const against = (what: string, names: string[], taken: Set<string>) => {
    for (const name of names) if (taken.has(name)) problems.push(`the ${what} ${name} exists already`);
  };
  against(
    'GraphQL type',
    [n.Name, `${n.Name}Connection`, `${n.Name}Edge`, `Create${n.Name}Input`, `Update${n.Name}Input`],
    existing.types,
  );
  against('query', [n.name, n.names], existing.queries);
  against('mutation', [`create${n.Name}`, `update${n.Name}`, `delete${n.Name}`], existing.mutations);
  against(
    'event type',
    ['created', 'updated', 'deleted'].map((verb) => `${n.snake}.${verb}`),
    existing.eventTypes,
  );
  against('table', [n.table], existing.tables);
  against('module export (or platform dependency)', [n.names], existing.exportNames);
  return problems;
}

/** The names each file imports and declares at its top level. */
function importedAndDeclared(text: string): { imported: string[]; declared: string[] } {
  const imported = [...text.matchAll(/^import (?:type )?\{([^}]*)\} from/gm)].flatMap(([, list]) =>
    list
      .split(',')
      .map(
        (item) =>
          item
            .trim()
            .replace(/^type /, '')
            .split(/\s+as\s+/)
            .at(-1) ?? '',
      )
      .filter(Boolean),
  );
  const declared = [...text.matchAll(/^(?:export )?(?:class|const|function|type|interface|enum) (\w+)/gm)].map(
    ([, name]) => name,
  );
  return { imported, declared };
}

/** A generated file that would bind a name twice: `connections` declares Connection where the resolver also imports the platform's. */
export function identifierClashes(files: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [path, text] of files) {
    if (!path.endsWith('.ts')) continue;
    const { imported, declared } = importedAndDeclared(text);
    const all = [...imported, ...declared];
    const twice = [...new Set(all.filter((name, index) => all.indexOf(name) !== index))];
    if (twice.length > 0)
      problems.push(
        `${path} would bind ${twice.join(', ')} twice (imports and declarations); pick another module name or --singular`,
      );
  }
  return problems;
}

/** The platform's migrations folder and each module's. */
function migrationDirs(root: string): string[] {
  const modules = join(root, 'src/modules');
  return [
    join(root, 'src/migrations'),
    ...readdirSync(modules).map((module) => join(modules, module, 'migrations')),
  ].filter((dir) => existsSync(dir));
}

/** Every migration file's timestamp, from its name. */
export function migrationTimestamps(root: string): number[] {
  return migrationDirs(root).flatMap((dir) => readdirSync(dir).map((file) => Number(/^(\d+)-/.exec(file)?.[1] ?? 0)));
}

/** Tables created by any migration (entities aside: the outbox and the like), read from the SQL. */
export function migrationTables(root: string): string[] {
  return migrationDirs(root)
    .flatMap((dir) => readdirSync(dir).map((file) => readFileSync(join(dir, file), 'utf8')))
    .flatMap((sql) =>
      [...sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?"?(\w+)"?/gi)].map(([, table]) => table.toLowerCase()),
    );
}

/** The keys of PlatformDeps and of every module's Exports interface: the names a module's build() receives. */
export function exportNames(root: string): string[] {
  const keysOf = (body: string) => [...body.matchAll(/^\s*(\w+)\??:/gm)].map(([, key]) => key);
  const platform =
    /export interface PlatformDeps \{([\s\S]*?)\n\}/.exec(
      readFileSync(join(root, 'src/platform/module.ts'), 'utf8'),
    )?.[1] ?? '';
  const modules = join(root, 'src/modules');
  const moduleExports = readdirSync(modules)
    .filter((module) => existsSync(join(modules, module, `${module}.module.ts`)))
    .flatMap((module) => [
      ...readFileSync(join(modules, module, `${module}.module.ts`), 'utf8').matchAll(
        /export interface \w+Exports \{([\s\S]*?)\n\}/g,
      ),
    ])
    .flatMap(([, body]) => keysOf(body));
  return [...keysOf(platform), ...moduleExports];
}
