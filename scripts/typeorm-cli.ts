import { resolve } from 'node:path';

/**
 * `npm run db:migration:generate -- <Name> <module>` diffs the entities
 * against the database and writes src/modules/<module>/migrations/<timestamp>-<Name>.ts
 * (without a module: src/migrations/, the platform's);
 * `npm run db:migration:create -- <Name> <module>` writes an empty one. Either way,
 * add the new class to the module definition's `migrations` (a test fails until you do).
 */
const [command, name, moduleName] = process.argv.slice(2);
if (
  !command ||
  !name ||
  !/^[A-Za-z][A-Za-z0-9]*$/.test(name) ||
  (moduleName !== undefined && !/^[a-z][a-z0-9-]*$/.test(moduleName))
) {
  process.stderr.write(
    'usage: npm run db:migration:generate -- <Name> [module]   (or db:migration:create), Name in PascalCase\n',
  );
  process.exit(1);
}
const root = resolve(__dirname, '..');
const target = moduleName
  ? resolve(root, 'src', 'modules', moduleName, 'migrations', name)
  : resolve(root, 'src', 'migrations', name);
const dataSourceArgs = command === 'migration:generate' ? ['-d', resolve(root, 'ormconfig.ts'), '--pretty'] : [];
process.argv = [process.argv[0], 'typeorm', command, target, ...dataSourceArgs];
process.on('exit', (code) => {
  if (code === 0)
    process.stdout.write(
      `now add the new migration class to the ${moduleName ?? 'platform'} migrations list (the module definition, or src/modules/index.ts)\n`,
    );
});
// eslint-disable-next-line @typescript-eslint/no-require-imports -- runs after process.argv is set; an import would be hoisted above it
require('typeorm/cli');
