import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createThrowawayDatabase, deleteRedisKeys, endpoint, probePostgres, probeRedis } from './bench-events-support';
import { percentile, rssMiB, startProcess } from './process-support';

/**
 * `npm run bench:live`: live subscriptions end to end. Two instances (child
 * processes running src/main.ts) on one PostgreSQL database and one Redis;
 * --subscribers <n> graphql-ws clients (1000), half on each instance, each
 * following taskChanged of one of --projects <n> projects (50) of --users <n>
 * users (10, one organization each); --rate <n> comments per second (200),
 * spread over the projects and sent to both instances, for --seconds <n> (20)
 * after --warmup <n> seconds (3). Prints event-to-subscriber latency (the
 * event's occurredAt to the client's receipt, same machine clock) p50/p99/max,
 * deliveries received of those expected, the bench client's own event-loop
 * delay (its share of the latency), and each instance's RSS. Goal: p50
 * <= 50 ms, p99 <= 250 ms. BENCH_DATABASE_URL (admin URL; default
 * postgres://postgres@127.0.0.1:5432/postgres) gets a database of the run's
 * own, dropped after; BENCH_REDIS_URL (redis://127.0.0.1:6379/15) a key prefix
 * of its own, deleted after.
 */
const option = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const SUBSCRIBERS = option('subscribers', 1000);
const PROJECTS = option('projects', 50);
const USERS = option('users', 10);
const RATE = option('rate', 200);
const SECONDS = option('seconds', 20);
const WARMUP = option('warmup', 3);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
const METRICS_TOKEN = randomBytes(16).toString('hex');

const SUBSCRIPTION = `subscription($projectId: ID!) { taskChanged(projectId: $projectId) { kind eventId occurredAt task { id title } } }`;

interface Instance {
  child: ChildProcess;
  url: string;
}

type Data = Record<string, Record<string, string>>;

async function gql(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<Data> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Data; errors?: unknown[] };
  if (body.errors) throw new Error(`${query.slice(0, 40)}…: ${JSON.stringify(body.errors)}`);
  return body.data!;
}

async function startInstance(env: Record<string, string>, name: string): Promise<Instance> {
  // Its log goes to a file (one info line per operation), never to a pipe this busy process would have to drain.
  const { child, match } = await startProcess(
    ['-r', '@swc-node/register', 'src/main.ts'],
    env,
    /groundwork ready at (http:\/\/[^\s"]+)\/graphql/,
    { logFile: join(tmpdir(), `groundwork-bench-live-${name}.log`) },
  );
  return { child, url: match[1] };
}

/** The sum of a gauge over both instances' /metrics. */
async function gauge(instances: Instance[], name: string): Promise<number> {
  let total = 0;
  for (const { url } of instances) {
    const text = await (
      await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
    ).text();
    total += Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  }
  return total;
}

async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const progress = (line: string) => process.stderr.write(`bench:live: ${line}\n`);

async function main(): Promise<void> {
  const unavailable = (await probePostgres(ADMIN_URL)) ?? (await probeRedis(REDIS_URL));
  if (unavailable) throw new Error(`bench:live needs PostgreSQL and Redis: ${unavailable}`);
  const database = await createThrowawayDatabase(ADMIN_URL);
  const prefix = `bench-live:${randomBytes(4).toString('hex')}:`;
  const env = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    JWT_SECRET: randomBytes(32).toString('base64url'),
    DATA_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    PASSWORD_HASH_COST: '10',
    MAIL_TRANSPORT: 'log',
    METRICS_TOKEN,
    DATABASE_URL: database.url,
    EVENTS_TRANSPORT: 'redis-streams',
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    // A machine shared with other work may take longer than the defaults to answer a handshake or a ping.
    LIVE_CONNECTION_INIT_TIMEOUT_MS: '60000',
    LIVE_KEEPALIVE_MS: '60000',
    LIVE_MAX_CONNECTIONS_PER_USER: String(Math.ceil(SUBSCRIBERS / USERS) + 1),
    API_BUDGET_PER_USER_PER_MINUTE: '100000000',
    API_BUDGET_PER_IP_PER_MINUTE: '100000000',
  };
  const instances: Instance[] = [];
  const clients: Client[] = [];
  try {
    instances.push(await startInstance(env, 'a'));
    instances.push(await startInstance(env, 'b'));
    progress(`instances at ${instances.map((instance) => instance.url).join(' and ')}`);
    const [a] = instances;

    // Users, one organization each, the projects spread over them, one task per project.
    const users: { token: string; projects: { id: string; taskId: string }[] }[] = [];
    for (let index = 0; index < USERS; index += 1) {
      const signedUp = await gql(a.url, `mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }`, {
        input: {
          email: `bench-${index}-${randomBytes(3).toString('hex')}@example.com`,
          password: 'correct horse battery',
          name: `Bench ${index}`,
        },
      });
      const token = signedUp.signUp.accessToken as string;
      const organization = await gql(
        a.url,
        `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { id } }`,
        { input: { name: `Bench ${index}` } },
        token,
      );
      users.push({ token, projects: [] });
      for (let project = index; project < PROJECTS; project += USERS) {
        const created = await gql(
          a.url,
          `mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }`,
          { input: { organizationId: organization.createOrganization.id, name: `P${project}` } },
          token,
        );
        const projectId = created.createProject.id as string;
        const task = await gql(
          a.url,
          `mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`,
          { input: { projectId, title: `T${project}` } },
          token,
        );
        users[index].projects.push({ id: projectId, taskId: task.createTask.id as string });
      }
    }
    const projects = users.flatMap((user) => user.projects.map((project) => ({ ...project, token: user.token })));
    progress(`${USERS} users, ${projects.length} projects; opening ${SUBSCRIBERS} subscriptions`);

    // The subscribers: half on each instance, each following one project.
    const latencies: number[] = [];
    const closedWith = new Map<number, number>();
    let measuring = false;
    let received = 0;
    const measureFrom = { at: Infinity, to: Infinity };
    for (let index = 0; index < SUBSCRIBERS; index += 1) {
      // In steps of 50, so that a loaded machine does not see a thousand handshakes at once.
      if (index > 0 && index % 50 === 0)
        await until(async () => (await gauge(instances, 'live_subscriptions')) >= index, `${index} subscriptions`);
      const project = projects[index % projects.length];
      const instance = instances[index % instances.length];
      const client = createClient({
        url: `${instance.url.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${project.token}` },
        retryAttempts: 0,
        onNonLazyError: () => undefined,
      });
      clients.push(client);
      client.subscribe<{ taskChanged: { occurredAt: string } }>(
        { query: SUBSCRIPTION, variables: { projectId: project.id } },
        {
          next: (result) => {
            const arrivedAt = Date.now();
            const occurredAt = Date.parse(result.data!.taskChanged.occurredAt);
            if (measuring && occurredAt >= measureFrom.at && occurredAt < measureFrom.to) {
              latencies.push(arrivedAt - occurredAt);
              received += 1;
            }
          },
          error: (error) => {
            const { code, reason } = error as { code?: number; reason?: string };
            closedWith.set(code ?? 0, (closedWith.get(code ?? 0) ?? 0) + 1);
            if (code === undefined) process.stderr.write(`subscription error: ${JSON.stringify(error)} (${reason})\n`);
          },
          complete: () => undefined,
        },
      );
    }
    await until(
      async () => (await gauge(instances, 'live_subscriptions')) === SUBSCRIBERS,
      `${SUBSCRIBERS} subscriptions`,
    );
    progress('subscribed; warming up');
    const subscribersOf = new Map<string, number>();
    for (let index = 0; index < SUBSCRIBERS; index += 1) {
      const id = projects[index % projects.length].id;
      subscribersOf.set(id, (subscribersOf.get(id) ?? 0) + 1);
    }

    // The load: RATE comments per second, round robin over projects and instances, at most 64 in flight.
    let expected = 0;
    const mutationMs: number[] = [];
    let sent = 0;
    let failed = 0;
    const rss = instances.map(() => ({ start: 0, max: 0, end: 0 }));
    const sampleRss = () =>
      instances.forEach(({ child }, index) => {
        const value = rssMiB(child.pid!);
        rss[index].max = Math.max(rss[index].max, value);
        rss[index].end = value;
      });
    instances.forEach(({ child }, index) => (rss[index].start = rssMiB(child.pid!)));
    const run = async (seconds: number, counted: boolean) => {
      const start = Date.now();
      let inFlight = 0;
      const pending: Promise<void>[] = [];
      for (let index = 0; Date.now() - start < seconds * 1000; index += 1) {
        const due = start + (index * 1000) / RATE;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        if (index % RATE === 0) sampleRss();
        if (inFlight >= 64) continue;
        const project = projects[sent % projects.length];
        const instance = instances[sent % instances.length];
        sent += 1;
        inFlight += 1;
        if (counted) expected += subscribersOf.get(project.id) ?? 0;
        const startedAt = Date.now();
        pending.push(
          gql(
            instance.url,
            `mutation($input: AddCommentInput!) { addComment(input: $input) { id } }`,
            { input: { taskId: project.taskId, body: 'live bench' } },
            project.token,
          )
            .then(
              () => void (counted && mutationMs.push(Date.now() - startedAt)),
              () => void (failed += 1),
            )
            .finally(() => (inFlight -= 1)),
        );
      }
      await Promise.all(pending);
    };
    await run(WARMUP, false);
    // The client's own share of the latency: 1,000 sockets in this one process.
    const clientDelay = monitorEventLoopDelay({ resolution: 5 });
    clientDelay.enable();
    sent = 0;
    measuring = true;
    measureFrom.at = Date.now();
    await run(SECONDS, true);
    measureFrom.to = Date.now();
    const sentMeasured = sent;
    await until(
      async () => received >= expected - failed * (SUBSCRIBERS / PROJECTS),
      'the last deliveries',
      30_000,
    ).catch(() => undefined);
    sampleRss();

    clientDelay.disable();
    const sorted = latencies.sort((x, y) => x - y);
    const load = execFileSync('uptime').toString().trim();
    const lines = [
      `bench:live — ${SUBSCRIBERS} subscribers on 2 instances (PostgreSQL ${endpoint(ADMIN_URL)}, Redis ${endpoint(REDIS_URL)}), ${PROJECTS} projects of ${USERS} users`,
      `load: ${RATE} comments/s target for ${SECONDS} s; sent ${sentMeasured} (${(sentMeasured / SECONDS).toFixed(0)}/s), ${failed} failed`,
      `deliveries: ${received} of ${expected} expected (${((100 * received) / Math.max(1, expected)).toFixed(2)}%), ${(received / SECONDS).toFixed(0)} messages/s`,
      `mutation round trip (commit included): p50 ${percentile(
        mutationMs.sort((x, y) => x - y),
        50,
      )} ms, p99 ${percentile(mutationMs, 99)} ms`,
      `event-to-subscriber latency: p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms, max ${sorted.at(-1)} ms (goal p50 <= 50, p99 <= 250)`,
      `bench client event-loop delay: p50 ${(clientDelay.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(clientDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(clientDelay.max / 1e6).toFixed(0)} ms`,
      ...rss.map(
        (r, index) =>
          `instance ${'AB'[index]} RSS: ${r.start} MiB with subscribers idle, max ${r.max} MiB, end ${r.end} MiB`,
      ),
      `subscriptions ended by the server during the run: ${closedWith.size === 0 ? 'none' : JSON.stringify([...closedWith])}`,
      `machine: ${cpus().length} cores; ${load}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    for (const client of clients) void client.dispose();
    for (const { child } of instances) child.kill('SIGTERM');
    await Promise.all(
      instances.map(
        ({ child }) =>
          new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null))),
      ),
    );
    await database.drop().catch(() => undefined);
    await deleteRedisKeys(REDIS_URL, prefix).catch(() => undefined);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
