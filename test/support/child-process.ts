import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve } from 'node:path';

const root = resolve(__dirname, '../..');

/**
 * What every process the suite starts takes from the suite's environment: PATH, HOME, and NODE_COMPILE_CACHE
 * (jest.config.js points it at a folder in the temp directory), so that a child reuses the V8 code of the modules
 * an earlier child compiled: a third less CPU for each start of the app through @swc-node/register.
 */
export function inheritedEnv(): Record<string, string> {
  const { PATH = '', HOME = '', NODE_COMPILE_CACHE } = process.env;
  return { PATH, HOME, ...(NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE } : {}) };
}

export interface AppProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The GraphQL URL from the "groundwork ready at" line (/readyz's for ROLE=worker). */
  ready: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs src/main.ts (or another entry point) as `npm run dev` does (without --watch), with only the environment given (plus inheritedEnv() and GRAPHQL_EXECUTOR),
 * in the repository or in `cwd` (which then needs a node_modules link, and SWC_NODE_PROJECT naming the repository's tsconfig.json).
 */
export function spawnApp(env: Record<string, string>, script = 'src/main.ts', cwd = root): AppProcess {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', resolve(root, script)], {
    cwd,
    env: {
      ...inheritedEnv(),
      // GRAPHQL_EXECUTOR=jit npx jest: the apps the suite spawns run on graphql-jit too (as startTestApp's do).
      ...(process.env.GRAPHQL_EXECUTOR ? { GRAPHQL_EXECUTOR: process.env.GRAPHQL_EXECUTOR } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on('exit', (code, signal) => done({ code, signal }));
  });
  const ready = new Promise<string>((done, fail) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /groundwork ready at (http:\/\/\S+?\/(?:graphql|readyz))\b/.exec(output);
      if (match) done(match[1]);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(({ code }) => fail(new Error(`exited with ${code} before it was ready:\n${output}`)));
  });
  ready.catch(() => undefined);
  return { child, output: () => output, ready, exited };
}

export async function postQuery(url: string, query: string, variables?: Record<string, unknown>, token?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, any> | null; errors?: unknown[] };
}

export interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of scripts/ as npm would, with only inheritedEnv() and the environment given; never rejects on a non-zero exit. */
export function scriptRunner(script: string, env: Record<string, string>) {
  return (...args: string[]): Promise<ScriptResult> =>
    promisify(execFile)(process.execPath, ['-r', '@swc-node/register', script, ...args], {
      cwd: root,
      env: { ...inheritedEnv(), NODE_ENV: 'test', LOG_LEVEL: 'error', ...env },
    }).then(
      (result) => ({ code: 0, ...result }),
      (error: ScriptResult) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );
}
