// @embedded-only: its databases are embedded PGlite of its own choosing, whatever TEST_DATABASE_URL says (CI runs it once, on the PGlite pass: jest.config.js).
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUILD_INPUTS, staleReason } from '../../scripts/build-if-stale';
import { copyRepository, type RepositoryCopy } from '../support/repo-copy';
import { inheritedEnv, postQuery } from '../support/child-process';

/** `npm start` in the copy until it serves; returns what it printed before "ready", and stops it with SIGTERM. */
async function npmStart(copy: RepositoryCopy): Promise<string> {
  const child = spawn('npm', ['start'], {
    cwd: copy.dir,
    detached: true,
    env: {
      ...inheritedEnv(),
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_EMBEDDED_PATH: 'memory://',
      LOG_FORMAT: 'json',
      ...(process.env.GRAPHQL_EXECUTOR ? { GRAPHQL_EXECUTOR: process.env.GRAPHQL_EXECUTOR } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  try {
    const url = await new Promise<string>((done, fail) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const ready = /groundwork ready at (http:\/\/\S+?\/graphql)/.exec(output);
        if (ready) done(ready[1]!);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then((code) => fail(new Error(`npm start exited with ${code} before it was ready:\n${output}`)));
    });
    expect(await postQuery(url, '{ me { id } }')).toMatchObject({ data: { me: null } });
    return output;
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

const mtime = (copy: RepositoryCopy, path: string) => statSync(join(copy.dir, path)).mtimeMs;

/** Sets a file's (or folder's) time a minute into the future: an edit made after the last build. */
function touchLater(copy: RepositoryCopy, path: string): void {
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(copy.dir, path), later, later);
}

describe('npm start and scripts/build-if-stale.ts', () => {
  let copy: RepositoryCopy;

  beforeAll(() => {
    copy = copyRepository('gw-start-');
    rmSync(join(copy.dir, 'dist'), { recursive: true, force: true });
  });

  afterAll(() => copy?.remove());

  it('watches everything the build command reads', () => {
    const build: string = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')).scripts.build;
    const compiled = /\bswc\s+(.*?)\s+-d\s/.exec(build)?.[1]?.split(/\s+/) ?? [];
    const configFile = /--config-file\s+(\S+)/.exec(build)?.[1];
    expect(compiled.length).toBeGreaterThan(0);
    expect(BUILD_INPUTS).toEqual(expect.arrayContaining([...compiled, configFile, 'package.json']));
  });

  it('builds on a fresh clone and serves; a second start neither builds nor touches dist/; an edit builds again', async () => {
    expect(staleReason(copy.dir)).toBe('dist/src/main.js does not exist');
    const first = await npmStart(copy);
    expect(first).toContain('building dist/: dist/src/main.js does not exist');
    expect(staleReason(copy.dir)).toBeUndefined();

    const built = mtime(copy, 'dist/src/main.js');
    const second = await npmStart(copy);
    expect(second).not.toContain('building');
    expect(mtime(copy, 'dist/src/main.js')).toBe(built);

    touchLater(copy, 'src/app.ts');
    const third = await npmStart(copy);
    expect(third).toContain('building dist/: src/app.ts changed since the last build');
    expect(mtime(copy, 'dist/src/main.js')).toBeGreaterThan(built);
  }, 240_000); // two builds and three starts: seconds idle, minutes on a loaded machine

  it('calls dist/ stale once a source file is deleted (its folder changes), and current again when nothing did', () => {
    const longAgo = new Date(0);
    utimesSync(join(copy.dir, 'src/app.ts'), longAgo, longAgo);
    expect(staleReason(copy.dir)).toBeUndefined();
    rmSync(join(copy.dir, 'src/platform/ids.ts'));
    expect(staleReason(copy.dir)).toBe('src/platform changed since the last build');
  });
});
