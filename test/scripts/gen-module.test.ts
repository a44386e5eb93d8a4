// @database-independent: the generated module's own tests run on the pass's backend in its copy, but CI runs this once, on the
// PGlite pass (jest.config.js): the module pattern on PostgreSQL is what every real module's tests prove in the second.
import { plan, Refusal } from '../../scripts/gen-module';
import { moduleNames, singularOf } from '../../scripts/module-template/names';
import { copyRepository, porcelain, type RepositoryCopy } from '../support/repo-copy';

const genModule = (copy: RepositoryCopy, ...args: string[]) =>
  copy.run(process.execPath, ['-r', '@swc-node/register', 'scripts/gen-module.ts', ...args]);

describe('the names gen:module derives', () => {
  it.each([
    ['labels', 'label'],
    ['time-entries', 'time-entry'],
    ['categories', 'category'],
    ['addresses', 'address'],
    ['boxes', 'box'],
    ['batches', 'batch'],
    ['wishes', 'wish'],
    ['ties', 'tie'],
    ['data', undefined],
    ['status', undefined],
    ['analysis', undefined],
    ['class', undefined],
  ])('takes the singular of %s to be %s', (plural, singular) => {
    expect(singularOf(plural)).toBe(singular);
  });

  it('derives every spelling from the kebab-case plural, or from --singular', () => {
    expect(moduleNames('time-entries')).toEqual({
      module: 'time-entries',
      kebab: 'time-entry',
      Name: 'TimeEntry',
      Names: 'TimeEntries',
      name: 'timeEntry',
      names: 'timeEntries',
      table: 'time_entries',
      snake: 'time_entry',
      words: 'time entry',
      Words: 'Time entry',
    });
    expect(moduleNames('people', 'person')).toMatchObject({
      Name: 'Person',
      Names: 'People',
      name: 'person',
      names: 'people',
      table: 'people',
    });
    expect(() => moduleNames('data')).toThrow('--singular');
    expect(() => moduleNames('labels', 'labels')).toThrow('must differ');
  });
});

describe('npm run gen:module refusing', () => {
  let copy: RepositoryCopy;

  beforeAll(() => {
    copy = copyRepository('gw-gen-refuse-');
  });

  afterAll(() => {
    copy?.remove();
  });

  const refusals: [string, string[], string][] = [
    ['an upper-case name', ['Labels'], 'is not a module name'],
    ['a name starting with a digit', ['9lives'], 'is not a module name'],
    ['snake_case', ['time_entries'], 'is not a module name'],
    ['a trailing hyphen', ['labels-'], 'is not a module name'],
    ['an existing module', ['projects'], 'the module src/modules/projects exists already'],
    ['a name whose GraphQL type and table exist', ['users'], 'the table users exists already'],
    ['a name whose queries, mutations and events exist', ['tasks'], 'the event type task.created exists already'],
    ['a word that is not a plural', ['data'], 'does not look like a plural'],
    ['a reserved word of JavaScript', ['classes'], '"class" is a reserved word of JavaScript'],
    [
      'a name the generated code uses for its own variables',
      ['fields'],
      '"field" would clash with a name the generated code uses',
    ],
    [
      'a name a generated file would bind twice',
      ['connections'],
      'connections.resolver.ts would bind Connection twice',
    ],
    ['a singular equal to the plural', ['labels', '--singular', 'labels'], 'must differ from the module name'],
    ['--singular without its word', ['labels', '--singular'], '--singular needs a word'],
    ['an unknown option', ['labels', '--force'], 'unknown option --force'],
    ['no name', [], 'usage: npm run gen:module'],
  ];

  // The checks themselves, in this process (a process per case cost 2 s of CPU each, most of it loading the app):
  // plan() writes nothing, and the command below shows that the CLI writes nothing when it refuses.
  it.each(refusals)('refuses %s, saying why', async (_what, args, message) => {
    const refusal = await plan(args).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(Refusal);
    expect((refusal as Refusal).problems.join('\n')).toContain(message);
  });

  it.each([refusals[0], refusals[6]])(
    'refuses %s as a command: exit code 1, saying why on stderr, nothing written',
    async (_what, args, message) => {
      const before = copy.snapshot();
      const result = await genModule(copy, ...args);
      expect([result.code, result.stdout]).toEqual([1, '']);
      expect(result.stderr).toContain('nothing was written');
      expect(result.stderr).toContain(message);
      expect(porcelain(before, copy.snapshot())).toEqual([]);
    },
  );
});

/**
 * SLOW (about a minute): the whole proof, in a throwaway copy of the
 * repository. The module is generated, then the copy passes typecheck,
 * arch:check and schema:export, the written files pass lint (eslint, no
 * warning) and prettier --check, and jest runs the module's own test, the
 * tenant-isolation suite and the schema test there, all without an edit.
 */
describe('npm run gen:module -- gen-probes (a name no real module takes), in a copy of the repository [slow]', () => {
  let copy: RepositoryCopy;

  beforeAll(() => {
    copy = copyRepository('gw-gen-proof-');
  });

  afterAll(() => {
    copy?.remove();
  });

  // Five checks and a jest run in a copy: about a minute idle, many more on a loaded machine.
  it('writes a module that passes typecheck, arch:check, schema:export, lint, format:check, its tests and the isolation suite, untouched', async () => {
    const before = copy.snapshot();
    const generated = await genModule(copy, 'gen-probes');
    expect(generated).toMatchObject({ code: 0, stderr: '' });
    const written = porcelain(before, copy.snapshot());
    expect(
      written.filter((line) => !/^\?\? src\/modules\/gen-probes\/migrations\/\d+-gen-probes\.ts$/.test(line)).sort(),
    ).toEqual(
      [
        ' M src/modules/index.ts',
        '?? src/modules/gen-probes/index.ts',
        '?? src/modules/gen-probes/gen-probe.entity.ts',
        '?? src/modules/gen-probes/gen-probe.events.ts',
        '?? src/modules/gen-probes/gen-probe.inputs.ts',
        '?? src/modules/gen-probes/gen-probe.types.ts',
        '?? src/modules/gen-probes/gen-probes.module.ts',
        '?? src/modules/gen-probes/gen-probes.repository.ts',
        '?? src/modules/gen-probes/gen-probes.resolver.ts',
        '?? src/modules/gen-probes/gen-probes.service.ts',
        '?? test/api/isolation/gen-probes.cases.ts',
        '?? test/api/gen-probes.test.ts',
      ].sort(),
    );
    expect(written).toHaveLength(13);
    const writtenPaths = written.map((line) => line.slice(3));

    const steps: [string, string, string[]][] = [
      ['typecheck', 'npm', ['run', '--silent', 'typecheck']],
      ['arch:check', 'npm', ['run', '--silent', 'arch:check']],
      ['schema:export', 'npm', ['run', '--silent', 'schema:export']],
      ['lint', process.execPath, ['node_modules/eslint/bin/eslint.js', '--max-warnings', '0', ...writtenPaths]],
      ['format:check', process.execPath, ['node_modules/prettier/bin/prettier.cjs', '--check', ...writtenPaths]],
      [
        'jest',
        process.execPath,
        [
          'node_modules/jest/bin/jest.js',
          '--ci',
          '--runInBand',
          'test/api/gen-probes.test.ts',
          'test/api/tenant-isolation.test.ts',
          'test/schema.test.ts',
        ],
      ],
    ];
    for (const [step, command, args] of steps) {
      const result = await copy.run(command, args, 300_000);
      if (result.code !== 0)
        throw new Error(
          `${step} failed in ${copy.dir} (exit ${result.code}):\n${result.stdout}\n${result.stderr}`.slice(0, 20_000),
        );
    }
  }, 600_000);
});
