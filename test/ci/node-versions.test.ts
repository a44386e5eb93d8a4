// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { major, minVersion, Range, satisfies, subset, valid } from 'semver';
import { SUPPORTED_NODE, unsupportedNode } from '../../src/platform/node-version';

const root = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');
const engines: string = JSON.parse(read('package.json')).engines.node;

interface LockedPackage {
  version?: string;
  dev?: boolean;
  engines?: { node?: string } | string[];
}

/** The lowest version of each alternative of a range: `^22.15.0 || >=24.11.0` gives 22.15.0 and 24.11.0. */
function lowestOfEach(range: string): string[] {
  return new Range(range).set.map(
    (comparators) => minVersion(comparators.map((comparator) => comparator.value).join(' '))!.version,
  );
}

/** Each production package of the lockfile whose engines.node leaves out a Node that `ours` allows, with the lowest such Node. */
function excludingPackages(ours: string, lock: { packages: Record<string, LockedPackage> }): string[] {
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && !entry.dev && !Array.isArray(entry.engines) && entry.engines?.node)
    .filter(([, entry]) => !subset(ours, (entry.engines as { node: string }).node))
    .map(([path, entry]) => {
      const theirs = (entry.engines as { node: string }).node;
      const excluded = lowestOfEach(ours).find((version) => !satisfies(version, theirs)) ?? `a Node within ${ours}`;
      return `${path.replace(/^.*node_modules\//, '')}@${entry.version} needs node ${theirs}, which excludes ${excluded}`;
    });
}

describe('the Node versions groundwork supports', () => {
  it('are one range: package.json engines, its lockfile entry, and the start-up check', () => {
    expect(SUPPORTED_NODE).toBe(engines);
    expect(JSON.parse(read('package-lock.json')).packages[''].engines.node).toBe(engines);
  });

  it('include every version CI, the Dockerfile and .nvmrc name', () => {
    const nvmrc = read('.nvmrc').trim();
    expect(valid(nvmrc)).toBe(nvmrc);
    expect(satisfies(nvmrc, engines)).toBe(true);

    const images = [...read('Dockerfile').matchAll(/^FROM\s+node:(\S+?)-\S*/gm)].map((match) => match[1]);
    expect(images.length).toBeGreaterThan(0);
    expect(new Set(images)).toEqual(new Set([nvmrc]));

    const ci = read('.ci/run');
    expect(ci).toMatch(/^NODE22_VERSION=\$\(cat \.nvmrc\)$/m);
    const node24 = /^NODE24_VERSION=(\S+)$/m.exec(ci)?.[1];
    expect(valid(node24)).toBe(node24);
    expect(satisfies(node24!, engines)).toBe(true);
    expect(major(node24!)).toBe(24);
    expect(ci).toMatch(/^use_node "\$NODE22_VERSION"$/m);
    // Node 24's production install runs in the background beside the PostgreSQL pass.
    expect(ci).toMatch(/^\(use_node "\$NODE24_VERSION" && production_install\) > .* &$/m);
  });

  it("are the ones the README's Quick start names", () => {
    const quickStart = /^## Quick start\n([\s\S]*?)^## /m.exec(read('README.md'))?.[1] ?? '';
    const paragraph = quickStart.split(/\n\s*\n/).find((text) => text.trimStart().startsWith('Node ')) ?? '';
    for (const lowest of lowestOfEach(engines)) expect(paragraph).toContain(lowest.replace(/\.0$/, ''));
    expect(paragraph).toContain(read('.nvmrc').trim());
  });

  it("exclude no version a production dependency's engines leave out", () => {
    expect(excludingPackages(engines, JSON.parse(read('package-lock.json')))).toEqual([]);
  });

  it("are checked against the dependencies' engines: the former >=20.19 would fail", () => {
    expect(excludingPackages('>=20.19', JSON.parse(read('package-lock.json')))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^cookie@\S+ needs node >=22, which excludes 20\.19\.0$/),
        expect.stringMatching(/^@whatwg-node\/promise-helpers@/),
      ]),
    );
  });

  it.each([
    ['20.19.0', false],
    ['22.14.0', false],
    ['22.15.0', true],
    ['23.11.0', false],
    ['24.10.0', false],
    ['24.11.0', true],
    ['25.0.0', true],
  ])('Node %s: supported %s', (version, supported) => {
    expect(unsupportedNode(version) === undefined).toBe(supported);
  });

  it('stop the app at start on an older Node, with one line naming both versions and exit code 1', async () => {
    // The preload makes this Node report an older version before src/main.ts (run as `npm run dev` does) loads.
    const child = spawn(
      process.execPath,
      ['-r', './test/fixtures/pretend-node-version.js', '-r', '@swc-node/register', 'src/main.ts'],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          PRETEND_NODE_VERSION: '20.19.0',
          NODE_ENV: 'test',
          PORT: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.on('exit', done));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `groundwork needs Node ${engines} (package.json "engines"), and this is Node 20.19.0. Install Node 22 (\`nvm install\` reads .nvmrc) or 24, then start again.\n`,
    );
  }, 60_000);
});
