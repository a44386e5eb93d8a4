import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

/**
 * The Dockerfile's steps, as this script runs them: each COPY is `sources... destination` relative to the
 * stage's WORKDIR (/app), each RUN a shell command run there. test/ci/dockerfile.test.ts fails when the
 * Dockerfile says anything else, so the image and this check cannot drift apart.
 */
export const DOCKERFILE_STEPS = {
  workdir: '/app',
  build: {
    copy: ['package.json package-lock.json ./', '.swcrc ormconfig.ts ./', 'src ./src', 'scripts ./scripts'],
    /** The build stage's `npm ci`: here the repository's node_modules, installed by the same command from the same lockfile, is linked instead. */
    install: 'npm ci --no-audit --no-fund',
    run: ['npm run build'],
  },
  runtime: {
    env: { NODE_ENV: 'production' },
    copy: ['package.json package-lock.json ./'],
    run: ['npm ci --omit=dev --no-audit --no-fund'],
    copyFromBuild: ['/app/dist ./dist'],
    /** USER: an unprivileged user, who does not own the files the stage installed. */
    user: 'node',
    healthcheck: [
      'node',
      '-e',
      "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))",
    ],
    /**
     * --heap-growing-percent=80: after each full collection the old generation may grow to 1.8 times what survived,
     * where V8's default on a machine with 16+ GiB allows 4 times, which under load kept about 150 MiB more old space
     * resident (peak RSS 190 against 330 MiB). It replaced --max-old-space-size=1536, which capped the growth the same
     * way (through the limit) but cost 10-15% more CPU per q1 request and set a 1.5 GiB ceiling on the heap.
     */
    cmd: ['node', '--heap-growing-percent=80', 'dist/src/main.js'],
  },
};

const root = resolve(__dirname, '../..');
const adminUrl = process.env.PRODUCTION_INSTALL_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Its own Redis database number (the test suites use 14 and 15) and its own key prefix. */
const redisUrl = process.env.PRODUCTION_INSTALL_REDIS_URL ?? 'redis://127.0.0.1:6379/13';
const READY_WITHIN_MS = 120_000;
const EXIT_WITHIN_MS = 60_000;

class CheckFailed extends Error {}

function step(message: string): void {
  process.stdout.write(`--> ${message}\n`);
}

/** Copies like COPY: a folder's content into the destination folder, files into a destination ending in /. */
function copy(instruction: string, from: string, to: string): void {
  const parts = instruction.split(' ');
  const destination = parts.pop()!;
  for (const source of parts) {
    const target = destination.endsWith('/') ? join(to, destination, basename(source)) : join(to, destination);
    cpSync(join(from, source.replace(/^\/app\/?/, '')), target, { recursive: true });
  }
}

/**
 * Runs a RUN line as Docker does (/bin/sh -c) in the stage's directory, with the stage's ENV; its output goes to ours.
 * It keeps this machine's network settings (proxy, CA certificates, npm's config), which a build host has too, and
 * npm prefers the machine's warm cache to asking the registry about each package (the lockfile pins each version
 * and its integrity).
 */
function run(command: string, cwd: string, env: Record<string, string>): void {
  const machine = { ...process.env };
  delete machine.NODE_ENV;
  const result = spawnSync('/bin/sh', ['-c', command], {
    cwd,
    env: { ...machine, npm_config_prefer_offline: 'true', ...env },
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new CheckFailed(`\`${command}\` exited with ${result.status ?? result.signal}`);
}

function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...extra };
}

/**
 * Run as root (as CI is), the app, its HEALTHCHECK and the migration script run as `nobody`, who, like the image's
 * USER, can read the installed files but write none of them; otherwise as whoever runs this.
 */
function unprivileged(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
    chmodSync(to, 0o755);
  }
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new CheckFailed(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

async function graphql<T>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
}

function psql(sql: string): void {
  execFileSync('psql', [adminUrl, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function dropRedisKeys(prefix: string): void {
  const keys = execFileSync('redis-cli', ['-u', redisUrl, '--scan', '--pattern', `${prefix}*`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  for (let at = 0; at < keys.length; at += 500)
    execFileSync('redis-cli', ['-u', redisUrl, 'DEL', ...keys.slice(at, at + 500)], { stdio: 'ignore' });
}

/** Builds as the build stage does, installs as the runtime stage does, then starts, uses and stops what it installed. */
async function main(): Promise<void> {
  const started = Date.now();
  const steps = DOCKERFILE_STEPS;
  const keep = process.argv.includes('--keep');
  const dir = mkdtempSync(join(tmpdir(), 'gw-production-install-'));
  chmodSync(dir, 0o755);
  const user = unprivileged();
  // The image has its node on PATH for every user; this one's may sit where `nobody` cannot reach (a cache under /root).
  mkdirSync(join(dir, 'bin'));
  linkOrCopy(process.execPath, join(dir, 'bin', 'node'));
  process.env.PATH = `${join(dir, 'bin')}:${process.env.PATH ?? ''}`;
  const buildDir = join(dir, 'build');
  const appDir = join(dir, 'app');
  const suffix = randomBytes(4).toString('hex');
  const database = `gw_production_install_${process.pid}_${suffix}`;
  const prefix = `gw-production-install-${suffix}:`;
  let app: ChildProcess | undefined;
  let output = '';
  let databaseCreated = false;
  try {
    step(`build stage in ${buildDir}, on Node ${process.version}`);
    mkdirSync(buildDir);
    for (const instruction of steps.build.copy) copy(instruction, root, buildDir);
    symlinkSync(join(root, 'node_modules'), join(buildDir, 'node_modules'), 'dir');
    for (const command of steps.build.run) run(command, buildDir, {});

    step(`runtime stage in ${appDir}`);
    mkdirSync(appDir);
    for (const instruction of steps.runtime.copy) copy(instruction, root, appDir);
    for (const command of steps.runtime.run) run(command, appDir, steps.runtime.env);
    for (const instruction of steps.runtime.copyFromBuild) copy(instruction, buildDir, appDir);

    psql(`CREATE DATABASE "${database}"`);
    databaseCreated = true;
    const databaseUrl = new URL(adminUrl);
    databaseUrl.pathname = `/${database}`;
    const port = String(await freePort());
    const secrets = {
      JWT_SECRET: randomBytes(48).toString('base64'),
      DATA_ENCRYPTION_KEYS: `ci:${randomBytes(32).toString('base64')}`,
    };
    const env = baseEnv({
      ...steps.runtime.env,
      ...secrets,
      HOST: '127.0.0.1',
      PORT: port,
      DATABASE_URL: databaseUrl.toString(),
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      PASSWORD_HASH_COST: '12',
    });
    const who = 'uid' in user ? `uid ${user.uid}` : 'this user';
    const appNode = spawnSync('node', ['-p', 'process.version'], {
      cwd: appDir,
      env,
      encoding: 'utf8',
      ...user,
    }).stdout?.trim();
    if (appNode !== process.version)
      throw new CheckFailed(`the app would run on Node ${appNode || '(none found)'}, not ${process.version}`);

    step(
      `${steps.runtime.cmd.join(' ')} on PostgreSQL database ${database} and Redis ${redisUrl} (prefix ${prefix}), port ${port}, as ${who}`,
    );
    const [command, ...args] = steps.runtime.cmd;
    app = spawn(command!, args, { cwd: appDir, env, stdio: ['ignore', 'pipe', 'pipe'], ...user });
    const collect = (chunk: Buffer) => (output += chunk.toString());
    app.stdout!.on('data', collect);
    app.stderr!.on('data', collect);
    const running = app;
    const [healthCommand, ...healthArgs] = steps.runtime.healthcheck;
    await until('the HEALTHCHECK (/readyz) to pass', READY_WITHIN_MS, async () => {
      if (running.exitCode !== null)
        throw new CheckFailed(`the app exited with ${running.exitCode} before it was ready`);
      return spawnSync(healthCommand!, healthArgs, { cwd: appDir, env, timeout: 10_000, ...user }).status === 0
        ? true
        : undefined;
    });

    const url = `http://127.0.0.1:${port}/graphql`;
    step(`signUp, then me, at ${url}`);
    const signUp = await graphql<{ signUp: { accessToken: string; user: { id: string } } }>(
      url,
      'mutation($input: SignUpInput!) { signUp(input: $input) { accessToken user { id email } } }',
      {
        input: {
          email: 'production-install@example.com',
          password: 'correct horse battery staple',
          name: 'Production Install',
        },
      },
    );
    const session = signUp.data?.signUp;
    if (!session?.accessToken) throw new CheckFailed(`signUp failed: ${JSON.stringify(signUp)}`);
    const me = await graphql<{ me: { id: string } | null }>(url, '{ me { id email } }', {}, session.accessToken);
    if (me.data?.me?.id !== session.user.id)
      throw new CheckFailed(`me did not return the signed-up user: ${JSON.stringify(me)}`);
    const introspection = await graphql<{ __schema?: unknown }>(url, '{ __schema { queryType { name } } }');
    if (introspection.data?.__schema)
      throw new CheckFailed('introspection answered: the app is not running with NODE_ENV=production');

    step('SIGTERM: expecting exit 0');
    app.kill('SIGTERM');
    const exit = await Promise.race([
      exited(app),
      new Promise<never>((_, fail) =>
        setTimeout(
          () => fail(new CheckFailed(`no exit within ${EXIT_WITHIN_MS} ms of SIGTERM`)),
          EXIT_WITHIN_MS,
        ).unref(),
      ),
    ]);
    if (exit.code !== 0) throw new CheckFailed(`exited with ${exit.code ?? exit.signal} after SIGTERM`);
    for (const [name, value] of Object.entries(secrets))
      if (output.includes(value)) throw new CheckFailed(`${name} appeared in the log`);

    step('node dist/scripts/migrate.js (the per-deploy migration, from the installed image)');
    const migrate = spawnSync('node', ['dist/scripts/migrate.js'], { cwd: appDir, env, encoding: 'utf8', ...user });
    if (migrate.status !== 0 || !migrate.stdout.includes('no pending migrations')) {
      throw new CheckFailed(
        `dist/scripts/migrate.js exited with ${migrate.status}:\n${migrate.stdout}${migrate.stderr}`,
      );
    }
    step(`production install passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    if (output) process.stderr.write(`--- the app's output ---\n${output}--- end of the app's output ---\n`);
    throw error;
  } finally {
    if (app && app.exitCode === null && app.signalCode === null) {
      app.kill('SIGKILL');
      await exited(app);
    }
    if (databaseCreated) psql(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    dropRedisKeys(prefix);
    if (keep) process.stdout.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `production install FAILED: ${error instanceof CheckFailed ? error.message : error instanceof Error ? error.stack : String(error)}\n`,
    );
    process.exit(1);
  });
}
