// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { buildSchema, isScalarType, isSpecifiedScalarType } from 'graphql';
import config from '../../examples/frontend/codegen';
import { inheritedEnv, type ScriptResult } from '../support/child-process';

const root = resolve(__dirname, '../..');
const GENERATED = 'examples/frontend/src/generated/graphql.ts';

/** A command in `cwd`, never rejecting on a non-zero exit. */
function run(cwd: string, command: string, ...args: string[]): Promise<ScriptResult> {
  return promisify(execFile)(command, args, {
    cwd,
    env: inheritedEnv(),
    timeout: 120_000,
  }).then(
    (result) => ({ code: 0, ...result }),
    (error: ScriptResult) => ({
      code: error.code ?? 1,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }),
  );
}

const codegen = (cwd: string) =>
  run(cwd, join(root, 'node_modules/.bin/graphql-codegen'), '--config', 'examples/frontend/codegen.ts');
const tsc = (cwd: string) =>
  run(cwd, process.execPath, join(root, 'node_modules/typescript/bin/tsc'), '-p', 'examples/frontend/tsconfig.json');

describe('npm run codegen (examples/frontend)', () => {
  let dir: string;

  beforeAll(() => {
    // A copy, so the test generates without touching the tree: schema.graphql and the example, node_modules linked.
    dir = mkdtempSync(join(tmpdir(), 'gw-codegen-'));
    cpSync(join(root, 'schema.graphql'), join(dir, 'schema.graphql'));
    cpSync(join(root, 'examples/frontend'), join(dir, 'examples/frontend'), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('maps every custom scalar of schema.graphql to a type, none left to any', () => {
    const schema = buildSchema(readFileSync(join(root, 'schema.graphql'), 'utf8'));
    const custom = Object.values(schema.getTypeMap())
      .filter((type) => isScalarType(type) && !isSpecifiedScalarType(type))
      .map((type) => type.name);
    const output = config.generates[GENERATED] as {
      config: { scalars: Record<string, unknown>; strictScalars: boolean };
    };
    expect(Object.keys(output.config.scalars).sort()).toEqual(custom.sort());
    expect(output.config.strictScalars).toBe(true);
  });

  it('generates what is committed from schema.graphql, and the example compiles against it with tsc', async () => {
    const generated = await codegen(dir);
    expect(generated).toMatchObject({ code: 0 });
    if (readFileSync(join(dir, GENERATED), 'utf8') !== readFileSync(join(root, GENERATED), 'utf8')) {
      throw new Error(`${GENERATED} is out of date: run \`npm run codegen\` and commit it`);
    }
    // src/scalar-checks.ts fails this too if DateTime or JSON came out as any.
    expect(await tsc(dir)).toEqual({ code: 0, stdout: '', stderr: '' });
  }, 120_000);

  it('fails on an operation that does not validate against schema.graphql, naming the field', async () => {
    const broken = join(dir, 'examples/frontend/src/broken.graphql');
    writeFileSync(broken, 'query Broken($id: ID!) { project(id: $id) { id deadline } }\n');
    try {
      const result = await codegen(dir);
      expect(result.code).not.toBe(0);
      expect(`${result.stdout}${result.stderr}`).toContain('Cannot query field "deadline" on type "Project"');
    } finally {
      rmSync(broken);
    }
  }, 120_000);
});
