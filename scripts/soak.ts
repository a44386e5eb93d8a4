import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { DOCKERFILE_STEPS } from './ci/production-install';
import { databaseUrlOn, percentile, root, rssMiB, startProcess, withClient } from './process-support';

/**
 * `npm run soak`: two built instances on one PostgreSQL database and one
 * Redis, a mixed workload (nested reads, task reads, writes, logins, and the
 * webhooks they cause, sent to a local receiver) from CONNECTIONS (32)
 * clients for DURATION seconds (60; `DURATION=3600 npm run soak` for an
 * hour). Midway one instance is taken out of rotation, sent SIGTERM,
 * restarted and put back, as a load balancer and a deploy would. Every
 * minute: requests, non-4xx errors, p50/p95/p99, each instance's RSS. At the
 * end: the outbox backlog and stream pending entries (they must drain to 0)
 * and the requests that failed during the restart (must be 0).
 * SOAK_DATABASE_URL (an admin URL, default postgres://postgres@127.0.0.1:5432/postgres)
 * gets a database of the run's own, dropped after; SOAK_REDIS_URL (default
 * redis://127.0.0.1:6379/14) a key prefix of its own, deleted after.
 */
const DURATION_S = Number(process.env.DURATION ?? 60);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
const ADMIN_URL = process.env.SOAK_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.SOAK_REDIS_URL ?? 'redis://127.0.0.1:6379/14';
const PASSWORD = 'soak test password';
const USERS = 8;

interface Instance {
  name: string;
  child: ChildProcess;
  url: string;
  inRotation: boolean;
}

interface Minute {
  requests: number;
  errors: number;
  latencies: number[];
  rss: Record<string, number>;
}

interface Tenant {
  email: string;
  token: string;
  organizationId: string;
  projectId: string;
  taskIds: string[];
}

const NESTED = `query($id: ID!) { projects(organizationId: $id, first: 5) { edges { node { name tasks(first: 10) { edges { node { title status assignee { name } } } } } } } }`;
const TASK = `query($id: ID!) { task(id: $id) { id title version comments(first: 5) { totalCount } } }`;
const CREATE_TASK = `mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`;
const ADD_COMMENT = `mutation($input: AddCommentInput!) { addComment(input: $input) { id } }`;
const UPDATE_TASK = `mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id version } }`;
const LOG_IN = `mutation($input: LogInInput!) { logIn(input: $input) { accessToken } }`;

interface GraphQLBody {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function gql(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<{ status: number; body: GraphQLBody }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLBody };
}

/** A setup request's `data`, in the shape its caller's query asks for; any error stops the soak before it starts. */
async function must<TData>(
  url: string,
  query: string,
  variables: Record<string, unknown>,
  token?: string,
): Promise<TData> {
  const { status, body } = await gql(url, query, variables, token);
  if (status !== 200 || body.errors)
    throw new Error(`setup request failed (${status}): ${JSON.stringify(body).slice(0, 300)}`);
  return body.data as TData;
}

async function startInstance(name: string, env: Record<string, string>): Promise<Instance> {
  const { child, match } = await startProcess(
    // The Dockerfile's start command (its V8 flags included), less the node binary.
    DOCKERFILE_STEPS.runtime.cmd.slice(1),
    env,
    /groundwork ready at (http:\/\/\S+?\/graphql)/,
  );
  return { name, child, url: match[1], inRotation: true };
}

/** A local webhook receiver that answers 200 and counts what it got. */
async function startReceiver(): Promise<{ url: string; received: () => number; server: Server }> {
  let received = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received += 1;
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received: () => received, server };
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const database = `groundwork_soak_${randomBytes(4).toString('hex')}`;
  const prefix = `soak:${randomBytes(4).toString('hex')}:`;
  await withClient(ADMIN_URL, (client) => client.query(`CREATE DATABASE ${database}`));
  const receiver = await startReceiver();
  const env = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: databaseUrlOn(ADMIN_URL, database),
    DATABASE_POOL_MAX: '10',
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    // info, as production runs (and the ready line is an info line).
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    JWT_SECRET: randomBytes(32).toString('hex'),
    DATA_ENCRYPTION_KEYS: `soak:${randomBytes(32).toString('base64')}`,
    MAIL_TRANSPORT: 'log',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_HTTP_HOSTS: '127.0.0.1',
    LOGIN_RATE_LIMIT_PER_IP: '1000000',
    API_BUDGET_PER_USER_PER_MINUTE: '1000000000',
    API_BUDGET_PER_IP_PER_MINUTE: '1000000000',
  };
  const instances = [await startInstance('A', env), await startInstance('B', env)];
  const redis = new Redis(REDIS_URL);
  try {
    process.stdout.write(`setting up ${USERS} organizations...\n`);
    const tenants: Tenant[] = [];
    for (let index = 0; index < USERS; index += 1) {
      const email = `soak-${index}-${randomBytes(3).toString('hex')}@example.com`;
      const signUp = await must<{ signUp: { accessToken: string } }>(
        instances[0].url,
        `mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }`,
        { input: { email, password: PASSWORD, name: `Soak ${index}` } },
      );
      const token = signUp.signUp.accessToken;
      const organization = await must<{ createOrganization: { id: string } }>(
        instances[0].url,
        `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }`,
        { input: { name: `Soak ${index}` } },
        token,
      );
      const organizationId = organization.createOrganization.id;
      await must(
        instances[0].url,
        `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`,
        {
          input: { organizationId, url: receiver.url, eventTypes: ['task.created', 'comment.added'] },
        },
        token,
      );
      const project = await must<{ createProject: { id: string } }>(
        instances[0].url,
        `mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`,
        { input: { organizationId, name: 'Soak' } },
        token,
      );
      const projectId = project.createProject.id;
      const taskIds: string[] = [];
      for (let task = 0; task < 10; task += 1)
        taskIds.push(
          (
            await must<{ createTask: { id: string } }>(
              instances[0].url,
              CREATE_TASK,
              { input: { projectId, title: `Task ${task}` } },
              token,
            )
          ).createTask.id,
        );
      tenants.push({ email, token, organizationId, projectId, taskIds });
    }

    const minutes: Minute[] = [];
    const failedDuringRestart: string[] = [];
    let restarting = false;
    const started = Date.now();
    const deadline = started + DURATION_S * 1000;
    const minuteOf = () => {
      const index = Math.floor((Date.now() - started) / 60_000);
      while (minutes.length <= index) minutes.push({ requests: 0, errors: 0, latencies: [], rss: {} });
      return minutes[index];
    };
    let turn = 0;
    const pick = () => {
      const live = instances.filter((instance) => instance.inRotation);
      return live[(turn += 1) % live.length];
    };

    const worker = async (id: number) => {
      const tenant = tenants[id % tenants.length];
      while (Date.now() < deadline) {
        const instance = pick();
        const roll = Math.random();
        const task = tenant.taskIds[Math.floor(Math.random() * tenant.taskIds.length)];
        const [query, variables, token]: [string, Record<string, unknown>, string | undefined] =
          roll < 0.45
            ? [NESTED, { id: tenant.organizationId }, tenant.token]
            : roll < 0.7
              ? [TASK, { id: task }, tenant.token]
              : roll < 0.82
                ? [ADD_COMMENT, { input: { taskId: task, body: 'soak' } }, tenant.token]
                : roll < 0.9
                  ? [UPDATE_TASK, { input: { id: task, priority: Math.floor(Math.random() * 5) } }, tenant.token]
                  : roll < 0.98
                    ? [CREATE_TASK, { input: { projectId: tenant.projectId, title: 'soak' } }, tenant.token]
                    : [LOG_IN, { input: { email: tenant.email, password: PASSWORD } }, undefined];
        const sentAt = performance.now();
        let failure: string | undefined;
        try {
          const { status, body } = await gql(instance.url, query, variables, token);
          const codes = (body.errors ?? []).map((error) => error.extensions?.code);
          if (status >= 500 || codes.includes('INTERNAL_SERVER_ERROR')) failure = `${status} ${codes.join(',')}`;
        } catch (error) {
          failure = error instanceof Error ? error.message : String(error);
        }
        const minute = minuteOf();
        minute.requests += 1;
        minute.latencies.push(performance.now() - sentAt);
        if (failure) {
          minute.errors += 1;
          if (restarting) failedDuringRestart.push(`${instance.name}: ${failure}`);
        }
      }
    };

    const sampler = setInterval(() => {
      const minute = minuteOf();
      for (const instance of instances)
        if (instance.child.pid && instance.child.exitCode === null)
          minute.rss[instance.name] = Math.max(minute.rss[instance.name] ?? 0, rssMiB(instance.child.pid));
    }, 2000);

    // Midway: B leaves the rotation (the balancer's health check), drains on SIGTERM, comes back, and rejoins once ready.
    const restart = (async () => {
      await new Promise((resolve) => setTimeout(resolve, (DURATION_S * 1000) / 2));
      restarting = true;
      const old = instances[1];
      old.inRotation = false;
      process.stdout.write(`${Math.round((Date.now() - started) / 1000)} s: SIGTERM to instance B\n`);
      const exited = new Promise((resolve) => old.child.once('exit', resolve));
      old.child.kill('SIGTERM');
      await exited;
      const fresh = await startInstance('B', env);
      for (;;) {
        const ready = await fetch(fresh.url.replace('/graphql', '/readyz')).then(
          (response) => response.ok,
          () => false,
        );
        if (ready) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      instances[1] = fresh;
      restarting = false;
      process.stdout.write(`${Math.round((Date.now() - started) / 1000)} s: instance B back in rotation\n`);
    })();

    process.stdout.write(`driving ${CONNECTIONS} connections for ${DURATION_S} s...\n`);
    await Promise.all([...Array.from({ length: CONNECTIONS }, (_, id) => worker(id)), restart]);
    clearInterval(sampler);

    // Drain: every event relayed and acknowledged, every webhook attempted.
    const drainStarted = Date.now();
    let backlog = { outbox: -1, pending: -1, deliveries: -1 };
    while (Date.now() - drainStarted < 120_000) {
      const [outbox, deliveries] = await withClient(databaseUrlOn(ADMIN_URL, database), async (client) => [
        Number(
          (await client.query<{ count: string }>('SELECT count(*) FROM outbox WHERE relayed_at IS NULL')).rows[0].count,
        ),
        Number(
          (await client.query<{ count: string }>(`SELECT count(*) FROM webhook_deliveries WHERE status = 'PENDING'`))
            .rows[0].count,
        ),
      ]);
      const groups = (await redis.xinfo('GROUPS', `${prefix}events`).catch(() => [])) as (string | number)[][];
      const pending = groups.reduce((sum, group) => sum + Number(group[group.indexOf('pending') + 1]), 0);
      backlog = { outbox, pending, deliveries };
      if (outbox === 0 && pending === 0 && deliveries === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const drainSeconds = Math.round((Date.now() - drainStarted) / 100) / 10;
    const statuses = await withClient(
      databaseUrlOn(ADMIN_URL, database),
      async (client) =>
        (
          await client.query(
            `SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status ORDER BY status`,
          )
        ).rows as { status: string; n: number }[],
    );

    const rows = minutes.map((minute, index) => {
      const sorted = [...minute.latencies].sort((a, b) => a - b);
      const rss = instances.map((instance) => `${minute.rss[instance.name] ?? '-'}`).join(' / ');
      return `| ${index + 1} | ${minute.requests} | ${minute.errors} | ${percentile(sorted, 50).toFixed(1)} | ${percentile(sorted, 95).toFixed(1)} | ${percentile(sorted, 99).toFixed(1)} | ${rss} |`;
    });
    process.stdout.write(
      `\n| minute | requests | non-4xx errors | p50 ms | p95 ms | p99 ms | RSS MiB A / B |\n|---|---|---|---|---|---|---|\n${rows.join('\n')}\n\n` +
        `requests in all: ${minutes.reduce((sum, minute) => sum + minute.requests, 0)}, non-4xx errors: ${minutes.reduce((sum, minute) => sum + minute.errors, 0)}\n` +
        `failed during the restart: ${failedDuringRestart.length}${failedDuringRestart.length ? ` (${failedDuringRestart.slice(0, 5).join('; ')})` : ''}\n` +
        `after ${drainSeconds} s of draining: outbox backlog ${backlog.outbox}, stream pending entries ${backlog.pending}, pending webhook deliveries ${backlog.deliveries}\n` +
        `webhook deliveries: ${statuses.map((row) => `${row.status} ${row.n}`).join(', ')}; requests at the receiver: ${receiver.received()}\n`,
    );
    const clean =
      failedDuringRestart.length === 0 &&
      backlog.outbox === 0 &&
      backlog.pending === 0 &&
      minutes.every((minute) => minute.errors === 0);
    process.exitCode = clean ? 0 : 1;
  } finally {
    for (const instance of instances) instance.child.kill('SIGTERM');
    // A child that died of a signal keeps exitCode null: it has exited all the same, and 'exit' will not come again.
    const running = instances.filter(
      (instance) => instance.child.exitCode === null && instance.child.signalCode === null,
    );
    await Promise.all(running.map((instance) => new Promise((resolve) => instance.child.once('exit', resolve))));
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    receiver.server.close();
    await withClient(ADMIN_URL, (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
