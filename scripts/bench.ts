import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { peakRssMiB, root, startProcess, withClient } from './process-support';
import { startStatementCounter, type StatementCounter } from './statement-counter';

/**
 * `npm run bench`: the built server on PostgreSQL with the large seed, driven
 * over HTTP by autocannon, beside a node:http + pg reference answering the same
 * reads with one hand-written SQL each. Options: --duration <s> (10),
 * --connections <n> (32), --rounds <n> (2). BENCH_DATABASE_URL names the
 * PostgreSQL server (an admin URL; default postgres://postgres@127.0.0.1:5432/postgres);
 * the benchmark uses its own database, groundwork_bench, seeding it once.
 */
const option = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const DURATION = option('duration', 10);
const CONNECTIONS = option('connections', 32);
const ROUNDS = option('rounds', 2);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'groundwork_bench';
const MEMBER = { email: 'user5@org0.example.com', password: 'groundwork-demo' };

interface Scenario {
  name: string;
  groundwork: { body: string; headers: Record<string, string> };
  reference: { path: string; body: string };
}

interface Measurement {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Including the SQL of the event handlers the requests caused. */
  statementsPerRequest: number;
  errors: number;
  /** How long after the load the last event it raised was handled. */
  drainSeconds: number;
}

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function prepareDatabase(): Promise<void> {
  const exists = await withClient(ADMIN_URL, async (client) => (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE])).rowCount);
  if (!exists) await withClient(ADMIN_URL, (client) => client.query(`CREATE DATABASE ${DATABASE}`));
  const seeded = await withClient(databaseUrl(DATABASE), async (client) => {
    const table = await client.query(`SELECT to_regclass('public.tasks') AS t`);
    if (!table.rows[0].t) return false;
    return Number((await client.query('SELECT count(*) FROM tasks')).rows[0].count) >= 50_000;
  });
  if (!seeded) {
    process.stdout.write(`seeding ${DATABASE} (large)...\n`);
    execFileSync(process.execPath, ['dist/scripts/seed.js', '--scale', 'large', '--force'], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, NODE_ENV: 'production', JWT_SECRET: randomBytes(32).toString('hex'), DATABASE_URL: databaseUrl(DATABASE), LOG_LEVEL: 'error' },
    });
  }
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<Record<string, any>> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const json = (await response.json()) as Record<string, any>;
  if (!response.ok || json.errors || json.error) throw new Error(`${url} answered ${response.status}: ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

/**
 * Waits until the outbox is drained (every event the load caused handled by
 * every consumer), read straight from PostgreSQL, not through the counter;
 * answers how long that took after the load ended, in seconds.
 */
async function drainEvents(): Promise<number> {
  const started = Date.now();
  await withClient(databaseUrl(DATABASE), async (client) => {
    for (;;) {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL');
      if (rows[0].n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  return Math.round((Date.now() - started) / 100) / 10;
}

async function measure(url: string, body: string, headers: Record<string, string>, counter: StatementCounter, drain?: () => Promise<number>): Promise<Measurement> {
  await post(url, body, headers);
  await drain?.();
  counter.reset();
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION,
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  // The events the requests raised are part of their cost: their SQL counts, and the next measurement starts after them.
  const drainSeconds = (await drain?.()) ?? 0;
  const completed = result.requests.total || 1;
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    statementsPerRequest: Math.round((counter.statements / completed) * 100) / 100,
    errors: result.errors + result.non2xx,
    drainSeconds,
  };
}

async function main(): Promise<void> {
  process.stdout.write('building...\n');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  await prepareDatabase();

  const target = new URL(databaseUrl(DATABASE));
  const counter = await startStatementCounter({ host: target.hostname, port: Number(target.port || 5432) });
  const viaCounter = Object.assign(new URL(target), { hostname: '127.0.0.1', port: String(counter.port) }).toString();

  const app = await startProcess(
    ['dist/src/main.js'],
    {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: viaCounter,
      DATABASE_POOL_MAX: '10',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      JWT_SECRET: randomBytes(32).toString('hex'),
      LOGIN_RATE_LIMIT_PER_IP: '1000',
      // One member drives every connection: the per-user and per-address API budgets would stop the load, not measure it.
      API_BUDGET_PER_USER_PER_MINUTE: '1000000000',
      API_BUDGET_PER_IP_PER_MINUTE: '1000000000',
    },
    /groundwork ready at (http:\/\/\S+?\/graphql)/,
  );
  const reference = await startProcess(['dist/scripts/bench-reference.js'], { DATABASE_URL: viaCounter, POOL_MAX: '10', PORT: '0' }, /reference ready on (\d+)/);
  const graphqlUrl = app.match[1];
  const referenceUrl = `http://127.0.0.1:${reference.match[1]}`;

  try {
    const login = await post(graphqlUrl, JSON.stringify({ query: 'mutation($i: LogInInput!) { logIn(input: $i) { accessToken user { id } } }', variables: { i: MEMBER } }));
    const token = login.data.logIn.accessToken as string;
    const memberId = login.data.logIn.user.id as string;
    const { organizationId, taskId } = await withClient(databaseUrl(DATABASE), async (client) => {
      const row = (await client.query(
        `SELECT o.id AS "organizationId", t.id AS "taskId" FROM organizations o JOIN tasks t ON t.organization_id = o.id
          WHERE o.slug = 'org-0' AND t.assignee_id IS NOT NULL ORDER BY t.id LIMIT 1`,
      )).rows[0] as { organizationId: string; taskId: string };
      return row;
    });
    const auth = { authorization: `Bearer ${token}` };
    const scenarios: Scenario[] = [
      {
        name: 'task by id + assignee',
        groundwork: { headers: auth, body: JSON.stringify({ query: 'query($id: ID!) { task(id: $id) { id title status assignee { id name } } }', variables: { id: taskId } }) },
        reference: { path: '/task', body: JSON.stringify({ id: taskId }) },
      },
      {
        name: 'nested: 20 projects x 10 tasks + assignee',
        groundwork: {
          headers: auth,
          body: JSON.stringify({
            query: `query($org: ID!) { projects(organizationId: $org, first: 20) { edges { node { id name
              tasks(first: 10, orderBy: { field: CREATED_AT, direction: ASC }) { edges { node { title assignee { name } } } } } } } }`,
            variables: { org: organizationId },
          }),
        },
        reference: { path: '/nested', body: JSON.stringify({ organizationId }) },
      },
      {
        name: 'addComment',
        groundwork: {
          headers: auth,
          body: JSON.stringify({ query: 'mutation($i: AddCommentInput!) { addComment(input: $i) { id body createdAt } }', variables: { i: { taskId, body: 'bench comment' } } }),
        },
        reference: { path: '/comment', body: JSON.stringify({ taskId, authorId: memberId, body: 'bench comment' }) },
      },
    ];

    process.stdout.write(`\n${CONNECTIONS} connections, ${DURATION} s per scenario, ${ROUNDS} round(s); SQL counted at a proxy in front of PostgreSQL\n`);
    for (let round = 1; round <= ROUNDS; round += 1) {
      const rows: string[] = [];
      for (const scenario of scenarios) {
        const ours = await measure(graphqlUrl, scenario.groundwork.body, scenario.groundwork.headers, counter, drainEvents);
        const floor = await measure(`${referenceUrl}${scenario.reference.path}`, scenario.reference.body, {}, counter);
        rows.push(
          `| ${scenario.name} | ${ours.requestsPerSecond} | ${ours.p50} | ${ours.p99} | ${ours.statementsPerRequest} | ${floor.requestsPerSecond} | ${floor.p50} | ${floor.p99} | ${floor.statementsPerRequest} | ${(ours.requestsPerSecond / floor.requestsPerSecond).toFixed(2)} |` +
            (ours.drainSeconds > 0 ? ` events handled ${ours.drainSeconds} s after the load` : '') +
            (ours.errors + floor.errors > 0 ? ` errors: ${ours.errors}/${floor.errors}` : ''),
        );
      }
      process.stdout.write(
        `\nround ${round}: groundwork peak RSS ${peakRssMiB(app.child.pid!)} MiB, reference peak RSS ${peakRssMiB(reference.child.pid!)} MiB\n` +
          '| scenario | groundwork req/s | p50 ms | p99 ms | SQL/req | reference req/s | p50 ms | p99 ms | SQL/req | req/s ratio |\n' +
          '|---|---|---|---|---|---|---|---|---|---|\n' +
          `${rows.join('\n')}\n`,
      );
    }
  } finally {
    app.child.kill('SIGTERM');
    reference.child.kill('SIGTERM');
    await counter.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
