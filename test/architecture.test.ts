// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

const root = resolve(__dirname, '..');
const config = resolve(root, '.dependency-cruiser.js');
const depcruise = resolve(root, 'node_modules/.bin/depcruise');
const fixtureDir = resolve(__dirname, 'fixtures/architecture');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

interface Dependency {
  module: string;
  resolved: string;
  couldNotResolve: boolean;
}

interface CruiseResult {
  modules: { source: string; dependencies: Dependency[] }[];
  summary: { violations: Violation[]; ruleSetUsed: { forbidden: { name: string }[] } };
}

/** dependency-cruiser is ESM-only, so it runs as its CLI, as `npm run arch:check` runs it. */
function depcruiseIn(cwd: string, ...args: string[]) {
  const result = spawnSync(depcruise, ['src', '--config', config, ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return result;
}

/** The JSON reporter exits 0 whatever it finds; only the default reporter (arch:check's) exits with the number of errors. */
function cruise(cwd: string): CruiseResult {
  const result = depcruiseIn(cwd, '--output-type', 'json');
  try {
    return JSON.parse(result.stdout) as CruiseResult;
  } catch {
    throw new Error(`depcruise (exit ${result.status}) printed no JSON: ${result.stderr}`);
  }
}

/** `../../../node_modules/typeorm/index.js` -> `node_modules/typeorm`: the package, not the file its version ships as main. */
function packageOf(path: string): string {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  return match ? `node_modules/${match[1]}` : path;
}

const unresolvedIn = (result: CruiseResult) =>
  result.modules.flatMap((module) =>
    module.dependencies
      .filter((dependency) => dependency.couldNotResolve)
      .map((dependency) => `${module.source} -> ${dependency.module}`),
  );

const describeViolation = ({ rule, from, to }: Violation) => `${rule.name}: ${from} -> ${packageOf(to)}`;

/** Every file under <base>/src, as depcruise names it: relative to base, with forward slashes. */
function sourcesUnder(base: string): string[] {
  return readdirSync(resolve(base, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(base, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

/** Each rule, what breaking it looks like, and the one fixture file written to break it. */
const breaches = [
  {
    rule: 'platform-imports-no-module',
    behaviour: 'rejects a platform file that imports a module, even through its index',
    file: 'src/platform/leaky.ts',
  },
  {
    rule: 'module-through-index-only',
    behaviour: "rejects a module file that reaches past another module's index",
    file: 'src/modules/beta/beta.loaders.ts',
  },
  {
    rule: 'index-exports-no-entity',
    behaviour: 'rejects a module index that exports an entity',
    file: 'src/modules/beta/index.ts',
  },
  {
    rule: 'no-foreign-entity',
    behaviour: "rejects a module file that imports another module's entity",
    file: 'src/modules/beta/beta-report.ts',
  },
  {
    rule: 'typeorm-only-in-repositories',
    behaviour:
      'rejects a module file other than a repository, entity or migration that imports typeorm, even for a type',
    file: 'src/modules/beta/beta.resolver.ts',
  },
  {
    rule: 'service-imports-no-transport',
    behaviour: 'rejects a service that imports @apollo/server or fastify',
    file: 'src/modules/beta/beta-notifier.service.ts',
  },
  {
    rule: 'no-circular',
    behaviour: 'rejects an import cycle',
    file: 'src/modules/gamma/first.ts',
  },
];

/** An import of another module's entity cannot go through that module's index, so it breaks this rule as well. */
const alsoBroken = [{ rule: 'module-through-index-only', file: 'src/modules/beta/beta-report.ts' }];

describe('the module boundaries of .dependency-cruiser.js', () => {
  it('hold in src/', () => {
    const result = cruise(root);

    expect(result.summary.violations.map(describeViolation)).toEqual([]);
    expect(result.modules.map((module) => module.source)).toEqual(expect.arrayContaining(sourcesUnder(root)));
    expect(unresolvedIn(result)).toEqual([]);
  });

  describe('on a fixture tree with one breaking file per rule', () => {
    let result: CruiseResult;
    const violationsOf = (rule: string) =>
      result.summary.violations.filter((violation) => violation.rule.name === rule);

    beforeAll(() => {
      result = cruise(fixtureDir);
    });

    it('has a breaking fixture for every rule in the config', () => {
      const rules = result.summary.ruleSetUsed.forbidden.map((rule) => rule.name);

      expect(breaches.map((breach) => breach.rule).sort()).toEqual([...rules].sort());
    });

    for (const { rule, behaviour, file } of breaches) {
      it(`${behaviour} (${rule}), in that file only`, () => {
        const expected = [file, ...alsoBroken.filter((extra) => extra.rule === rule).map((extra) => extra.file)];

        expect([...new Set(violationsOf(rule).map((violation) => violation.from))].sort()).toEqual(expected.sort());
      });
    }

    it('reports nothing for the fixture files that keep the rules', () => {
      const files = sourcesUnder(fixtureDir);
      const breaking = new Set([...breaches, ...alsoBroken].map((breach) => breach.file));
      const keeping = files.filter((file) => !breaking.has(file));

      // A file the cruise skipped would pass without being checked.
      expect(result.modules.map((module) => module.source)).toEqual(expect.arrayContaining(files));
      expect(keeping).toEqual(
        expect.arrayContaining([
          'src/modules/alpha/index.ts',
          'src/modules/alpha/alpha.service.ts',
          'src/modules/beta/beta.service.ts',
        ]),
      );
      expect(
        result.summary.violations.filter((violation) => keeping.includes(violation.from)).map(describeViolation),
      ).toEqual([]);
    });

    it('reports each breach against the import that causes it, and nothing more', () => {
      expect(result.summary.violations.map(describeViolation).sort()).toEqual(
        [
          'platform-imports-no-module: src/platform/leaky.ts -> src/modules/alpha/index.ts',
          'module-through-index-only: src/modules/beta/beta.loaders.ts -> src/modules/alpha/alpha.service.ts',
          'module-through-index-only: src/modules/beta/beta-report.ts -> src/modules/alpha/alpha.entity.ts',
          'index-exports-no-entity: src/modules/beta/index.ts -> src/modules/beta/beta.entity.ts',
          'no-foreign-entity: src/modules/beta/beta-report.ts -> src/modules/alpha/alpha.entity.ts',
          'typeorm-only-in-repositories: src/modules/beta/beta.resolver.ts -> node_modules/typeorm',
          'service-imports-no-transport: src/modules/beta/beta-notifier.service.ts -> node_modules/@apollo/server',
          'service-imports-no-transport: src/modules/beta/beta-notifier.service.ts -> node_modules/fastify',
          'no-circular: src/modules/gamma/first.ts -> src/modules/gamma/second.ts',
        ].sort(),
      );
    });

    it('makes `npm run arch:check` fail', () => {
      const check = depcruiseIn(fixtureDir);

      expect(check.status).toBe(result.summary.violations.length);
      expect(check.stdout).toContain('platform-imports-no-module');
    });

    // The package rules match on the resolved path: an unresolved 'typeorm' would slip past them silently.
    it('resolves typeorm, fastify and @apollo/server to the installed packages', () => {
      const installed = [
        ...violationsOf('typeorm-only-in-repositories'),
        ...violationsOf('service-imports-no-transport'),
      ]
        .map((violation) => relative(root, resolve(fixtureDir, violation.to)).split(sep).join('/'))
        .sort();

      expect(unresolvedIn(result)).toEqual([]);
      expect(installed).toEqual([
        expect.stringMatching(/^node_modules\/@apollo\/server\//),
        expect.stringMatching(/^node_modules\/fastify\//),
        expect.stringMatching(/^node_modules\/typeorm\//),
      ]);
      expect(installed.filter((path) => !existsSync(resolve(root, path)))).toEqual([]);
    });
  });
});

/** What only a repository may write: a statement, a query builder, or a hand on the EntityManager. */
const SQL_OUTSIDE_REPOSITORIES =
  /\.query\(|createQueryBuilder|getRepository\(|\bEntityManager\b|\.manager\b|\.transaction\(\s*(async\s*)?\(?manager/;
const MAY_HOLD_SQL = /(\.repository\.ts|\.entit(y|ies)\.ts|\/migrations\/[^/]+\.ts)$/;

/** `file:line: text` for each line of a module file (other than a repository, entity or migration) that holds SQL. */
function sqlOutsideRepositories(files: { path: string; text: string }[]): string[] {
  return files
    .filter((file) => file.path.startsWith('src/modules/') && !MAY_HOLD_SQL.test(file.path))
    .flatMap((file) =>
      file.text
        .split('\n')
        .map((line, index) => ({ line, index }))
        .filter(
          ({ line }) =>
            SQL_OUTSIDE_REPOSITORIES.test(line) &&
            !line.trimStart().startsWith('//') &&
            !line.trimStart().startsWith('*'),
        )
        .map(({ line, index }) => `${file.path}:${index + 1}: ${line.trim()}`),
    );
}

describe('statements live in repositories', () => {
  it('no module file but a repository, entity or migration runs SQL or holds an EntityManager', () => {
    const files = sourcesUnder(root).map((path) => ({ path, text: readFileSync(resolve(root, path), 'utf8') }));

    expect(files.length).toBeGreaterThan(50);
    expect(sqlOutsideRepositories(files)).toEqual([]);
  });

  it('catches each way a service could reach the database itself', () => {
    const breaches = [
      "await this.dataSource.query('SELECT 1');",
      'this.dataSource.getRepository(TaskEntity).findOneBy({ id });',
      "dataSource.createQueryBuilder().select('x');",
      'await tx.manager.insert(TaskEntity, task);',
      'constructor(private readonly manager: EntityManager) {}',
      'return this.dataSource.transaction(async (manager) => manager.save(task));',
    ];
    const found = sqlOutsideRepositories([
      ...breaches.map((text, index) => ({ path: `src/modules/beta/beta-${index}.service.ts`, text })),
      ...breaches.map((text, index) => ({ path: `src/modules/beta/beta-${index}.repository.ts`, text })),
      { path: 'src/modules/beta/migrations/1-beta.ts', text: breaches[0] },
    ]);

    expect(found).toHaveLength(breaches.length);
  });
});
