import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MEMBER_ROLE, type Runtimes } from './bench-postgraphile';
import type { ServerName } from './bench-scenarios';
import { DOCKERFILE_STEPS } from './ci/production-install';
import { startProcess } from './process-support';
import { startStatementCounter, type StatementCounter } from './statement-counter';

/**
 * Starts one of the servers `npm run bench` compares, behind a statement
 * counter of its own, on the bench's Node, its output in <logsDir>/<name>.log.
 */
export interface ServerSettings {
  benchUrl: string;
  runtimes: Runtimes;
  /** JWT_SECRET, JWT_ISSUER, JWT_AUDIENCE: the same for all three. */
  jwt: Record<string, string>;
  dataEncryptionKeys: string;
  /** groundwork with the profiler agent and an IPC channel to it. */
  profile: boolean;
  logsDir: string;
  /** groundwork exports its traces here (OTEL_EXPORTER_OTLP_ENDPOINT); unset, tracing is off. */
  tracesEndpoint?: string;
  /** Node/V8 flags groundwork starts with before the Dockerfile's (not the baseline: `--node-flags`). */
  nodeFlags?: string[];
}

export interface Running {
  /** What the tables call it: the server's name, or `baseline` for groundwork built from another commit. */
  name: string;
  /** Which server it is, so which requests it answers. */
  kind: ServerName;
  /** The database it serves (direct, not through the statement counter). */
  databaseUrl: string;
  baseUrl: string;
  pid: number;
  counter: StatementCounter;
  child: Awaited<ReturnType<typeof startProcess>>['child'];
}

/**
 * groundwork's arguments to node: the Dockerfile's start command (its V8 flags included) less the node binary, after
 * `--node-flags` (not for the baseline, which is the code compared, started as shipped) and the profiler agent.
 */
export function groundworkArguments(
  settings: Pick<ServerSettings, 'nodeFlags' | 'profile'>,
  baseline: boolean,
): string[] {
  return [
    ...(settings.profile ? ['-r', './dist/scripts/bench-profile-agent.js'] : []),
    ...(baseline ? [] : (settings.nodeFlags ?? [])),
    ...DOCKERFILE_STEPS.runtime.cmd.slice(1),
  ];
}

/** `baseline`: groundwork built in another directory (`--baseline <commit>`), started as groundwork is. */
export interface Baseline {
  label: string;
  dir: string;
  /** Its own database (direct, not through the statement counter). */
  databaseUrl: string;
}

export async function startServer(name: ServerName, settings: ServerSettings, baseline?: Baseline): Promise<Running> {
  const { runtimes, jwt, profile, logsDir } = settings;
  const benchUrl = baseline?.databaseUrl ?? settings.benchUrl;
  const target = new URL(benchUrl);
  const counter = await startStatementCounter({ host: target.hostname, port: Number(target.port || 5432) });
  const viaCounter = Object.assign(new URL(target), { hostname: '127.0.0.1', port: String(counter.port) }).toString();
  mkdirSync(logsDir, { recursive: true });
  const node = { node: runtimes.node, logFile: join(logsDir, `${baseline?.label ?? name}.log`) };
  let started: Awaited<ReturnType<typeof startProcess>>;
  let baseUrl: string;
  if (name === 'groundwork') {
    const env = {
      ...jwt,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: viaCounter,
      DATABASE_POOL_MAX: '10',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      DATA_ENCRYPTION_KEYS: settings.dataEncryptionKeys,
      LOGIN_RATE_LIMIT_PER_IP: '1000',
      // One token serves the whole bench, however long it runs.
      ACCESS_TOKEN_TTL: '12h',
      // One member drives every connection: the per-user and per-address API budgets would stop the load, not measure it.
      API_BUDGET_PER_USER_PER_MINUTE: '1000000000',
      API_BUDGET_PER_IP_PER_MINUTE: '1000000000',
      // `GRAPHQL_EXECUTOR=jit npm run bench` measures the other executor.
      ...(process.env.GRAPHQL_EXECUTOR ? { GRAPHQL_EXECUTOR: process.env.GRAPHQL_EXECUTOR } : {}),
      ...(settings.tracesEndpoint
        ? { OTEL_EXPORTER_OTLP_ENDPOINT: settings.tracesEndpoint, OTEL_SERVICE_NAME: 'groundwork-bench' }
        : {}),
    };
    const command = groundworkArguments(settings, baseline !== undefined);
    started = await startProcess(command, env, /groundwork ready at (http:\/\/\S+?\/graphql)/, {
      ...node,
      ipc: profile,
      cwd: baseline?.dir,
    });
    baseUrl = started.match[1];
  } else if (name === 'reference') {
    started = await startProcess(
      ['dist/scripts/bench-reference.js'],
      { ...jwt, DATABASE_URL: viaCounter, POOL_MAX: '10', PORT: '0' },
      /reference ready on (\d+)/,
      node,
    );
    baseUrl = `http://127.0.0.1:${started.match[1]}`;
  } else {
    const env = {
      ...jwt,
      DATABASE_URL: viaCounter,
      POOL_MAX: '10',
      PORT: '0',
      POSTGRAPHILE_MODULES: runtimes.postgraphile!,
      MEMBER_ROLE,
      NODE_ENV: 'production',
      GRAPHILE_ENV: 'production',
    };
    started = await startProcess(
      ['dist/scripts/bench-postgraphile-server.js'],
      env,
      /postgraphile ready on (\d+)/,
      node,
    );
    baseUrl = `http://127.0.0.1:${started.match[1]}/graphql`;
  }
  return {
    name: baseline?.label ?? name,
    kind: name,
    databaseUrl: benchUrl,
    baseUrl,
    pid: started.child.pid!,
    counter,
    child: started.child,
  };
}

/** SIGTERM, then SIGKILL if the server has not exited within 15 s (groundwork drains for up to SHUTDOWN_TIMEOUT_MS). */
export async function stopServer(server: Running): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) {
    const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
    server.child.kill('SIGTERM');
    const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  await server.counter.close();
}
