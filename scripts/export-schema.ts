import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildApiSchema } from '../src/app';
import { printSchemaSDL } from '../src/platform/graphql/schema';

/** `npm run schema:export` writes schema.graphql; with --check it only reports drift (exit 1). */
async function main(): Promise<void> {
  const target = resolve(__dirname, '..', 'schema.graphql');
  const sdl = printSchemaSDL(await buildApiSchema());
  if (process.argv.includes('--check')) {
    const committed = readFileSync(target, 'utf8');
    if (committed !== sdl) {
      process.stderr.write('schema.graphql is out of date: run `npm run schema:export` and commit it\n');
      process.exit(1);
    }
    process.stdout.write('schema.graphql is current\n');
    return;
  }
  writeFileSync(target, sdl);
  process.stdout.write(`wrote ${target}\n`);
}

void main();
