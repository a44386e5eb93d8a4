import type { ModuleNames } from './names';

/** The module definition: entities, migrations, events, resolvers, and what build() wires. */
export function moduleFile(n: ModuleNames, timestamp: number): string {
  const migration = `${n.Names}${timestamp}`;
  return `import { defineModule, type PlatformDeps } from '../../platform/module';
import type { OrganizationAccess, OrganizationsService } from '../organizations';
import { ${n.Name}Entity } from './${n.kebab}.entity';
import { ${n.name}Events } from './${n.kebab}.events';
import { ${n.Name}Resolver } from './${n.module}.resolver';
import { ${n.Names}Service } from './${n.module}.service';
import { ${migration} } from './migrations/${timestamp}-${n.module}';

export interface ${n.Names}Deps extends PlatformDeps {
  access: OrganizationAccess;
  organizations: OrganizationsService;
}

export interface ${n.Names}Exports {
  ${n.names}: ${n.Names}Service;
}

/** An organization's ${n.words} records (written by \`npm run gen:module -- ${n.module}\`). */
export const ${n.names}Module = defineModule<${n.Names}Deps, ${n.Names}Exports>({
  name: '${n.module}',
  entities: [${n.Name}Entity],
  migrations: [${migration}],
  events: ${n.name}Events,
  resolvers: [${n.Name}Resolver],
  build({ uow, events, access, organizations }) {
    const ${n.names} = new ${n.Names}Service(uow, access, events.typed(${n.name}Events));
    return { resolvers: [new ${n.Name}Resolver(${n.names}, organizations)], exports: { ${n.names} } };
  },
});
`;
}

/** The module's public face: what other modules may import. */
export function indexFile(n: ModuleNames): string {
  return `export { ${n.names}Module, type ${n.Names}Deps, type ${n.Names}Exports } from './${n.module}.module';
export type { ${n.Names}Service } from './${n.module}.service';
export { ${n.Name} } from './${n.kebab}.types';
export type { ${n.Name}Events } from './${n.kebab}.events';
`;
}

const MODULE_IMPORT = /^import \{ \w+Module \} from '\.\/([^']+)';$/;
const MODULE_LIST = /(export const modules = \[)([^\]]*)(\] as const;)/;

/**
 * src/modules/index.ts with the module imported (among the other module
 * imports, alphabetically) and appended to `modules`; throws when the file
 * no longer has the shape this edit expects, so nothing is written.
 */
export function registerModule(registry: string, n: ModuleNames): string {
  const list = MODULE_LIST.exec(registry);
  if (!list)
    throw new Error('src/modules/index.ts has no `export const modules = [...] as const;` to append the module to');
  const lines = registry.split('\n');
  const imports = lines.flatMap((line, index) =>
    MODULE_IMPORT.test(line) ? [{ folder: MODULE_IMPORT.exec(line)?.[1] ?? '', index }] : [],
  );
  if (imports.length === 0)
    throw new Error("src/modules/index.ts imports no module as `import { xModule } from './x';`");
  const after = imports.filter((line) => line.folder < n.module).at(-1);
  const at = after ? after.index + 1 : imports[0].index;
  lines.splice(at, 0, `import { ${n.names}Module } from './${n.module}';`);
  const entry = `${n.names}Module`;
  // One line stays one line; a list laid out one module a line gets a line more.
  const append = (items: string) =>
    items.includes('\n') ? items.replace(/,?(\s*)$/, `,\n  ${entry},$1`) : `${items.trimEnd()}, ${entry}`;
  return lines
    .join('\n')
    .replace(MODULE_LIST, (_whole, open: string, items: string, close: string) => `${open}${append(items)}${close}`);
}
