import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '..');
const config = resolve(root, '.dependency-cruiser.js');
const depcruise = resolve(root, 'node_modules/.bin/depcruise');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** dependency-cruiser is ESM-only, so it runs as its CLI, as `npm run arch:check` runs it. */
function cruise(cwd: string): Violation[] {
  const result = spawnSync(depcruise, ['src', '--config', config, '--output-type', 'json'], { cwd, encoding: 'utf8' });
  if (!result.stdout) throw new Error(`depcruise printed nothing: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('module boundaries', () => {
  it('holds in src/', () => {
    expect(cruise(root).map(({ rule, from, to }) => `${rule.name}: ${from} -> ${to}`)).toEqual([]);
  });

  it('catches a breach of each rule, and only the breaches', () => {
    const violations = cruise(resolve(__dirname, 'fixtures/architecture'));
    const found = violations.map(({ rule, from, to }) => `${rule.name}: ${from} -> ${to.replace(/^.*node_modules\//, 'node_modules/')}`);

    expect(found.sort()).toEqual(
      [
        'platform-imports-no-module: src/platform/leaky.ts -> src/modules/alpha/index.ts',
        'module-through-index-only: src/modules/beta/beta.service.ts -> src/modules/alpha/alpha.service.ts',
        'module-through-index-only: src/modules/beta/beta.repository.ts -> src/modules/alpha/alpha.entity.ts',
        'index-exports-no-entity: src/modules/alpha/index.ts -> src/modules/alpha/alpha.entity.ts',
        'no-foreign-entity: src/modules/beta/beta.repository.ts -> src/modules/alpha/alpha.entity.ts',
        'resolver-imports-no-typeorm: src/modules/alpha/alpha.resolver.ts -> node_modules/typeorm/index.js',
        'service-imports-no-transport: src/modules/alpha/alpha.service.ts -> node_modules/fastify/fastify.js',
        'no-circular: src/modules/gamma/first.ts -> src/modules/gamma/second.ts',
      ].sort(),
    );
  });
});
