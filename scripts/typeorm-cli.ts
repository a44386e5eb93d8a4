import { resolve } from 'node:path';

/**
 * `npm run db:migration:generate -- <Name>` diffs the entities against the
 * database and writes src/migrations/<timestamp>-<Name>.ts;
 * `npm run db:migration:create -- <Name>` writes an empty one. Either way,
 * add the new class to src/migrations/index.ts (a test fails until you do).
 */
const [command, name] = process.argv.slice(2);
if (!command || !name || !/^[A-Za-z][A-Za-z0-9]*$/.test(name)) {
  process.stderr.write('usage: npm run db:migration:generate -- <Name>   (or db:migration:create), Name in PascalCase\n');
  process.exit(1);
}
const root = resolve(__dirname, '..');
const target = resolve(root, 'src', 'migrations', name);
const dataSourceArgs = command === 'migration:generate' ? ['-d', resolve(root, 'ormconfig.ts'), '--pretty'] : [];
process.argv = [process.argv[0], 'typeorm', command, target, ...dataSourceArgs];
process.on('exit', (code) => {
  if (code === 0) process.stdout.write(`now add the new migration class to src/migrations/index.ts\n`);
});
require('typeorm/cli');
