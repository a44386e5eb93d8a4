import 'reflect-metadata';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildApiSchema } from '../src/app';
import { migrations } from '../src/migrations';
import { printSchemaSDL } from '../src/platform/graphql/schema';

const root = resolve(__dirname, '..');

describe('schema.graphql', () => {
  it('matches the schema the code builds', async () => {
    const built = printSchemaSDL(await buildApiSchema());
    const committed = readFileSync(resolve(root, 'schema.graphql'), 'utf8');
    if (built !== committed) {
      throw new Error('schema.graphql is out of date: run `npm run schema:export` and commit the result');
    }
  });
});

describe('src/migrations/index.ts', () => {
  it('lists every migration file, oldest first', () => {
    const files = readdirSync(resolve(root, 'src/migrations'))
      .filter((file) => /^\d+-.+\.ts$/.test(file))
      .sort((a, b) => Number(a.split('-')[0]) - Number(b.split('-')[0]));
    const classNames = files.map((file) => {
      const source = readFileSync(resolve(root, 'src/migrations', file), 'utf8');
      const match = /export class (\w+)/.exec(source);
      if (!match) throw new Error(`${file} exports no migration class`);
      return match[1];
    });

    expect(migrations.map((migration) => migration.name)).toEqual(classNames);
  });
});
