import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';
import { NODE_VERSION, prepareRuntimes } from './bench-postgraphile';
import { bucketTable, profileAround, summarise } from './bench-profile';
import { checkSameAnswers, post, type StoredComment } from './bench-check';
import { parseServers, scenarios, SERVERS, type Scenario, type ServerName } from './bench-scenarios';
import { startServer, stopServer, type Baseline, type Running } from './bench-servers';
import { OtlpReceiver } from './otlp-receiver';
import { cpuSeconds, databaseUrlOn, peakRssMiB, root, sampleRss, withClient } from './process-support';

/**
 * `npm run bench`: groundwork (built, on PostgreSQL with the large seed), a
 * node:http + pg reference (the limit) and PostGraphile v5 over the same
 * database, all on Node 22 when it can be installed, driven over HTTP by
 * autocannon with the same member's token. Checks first that all three answer
 * the same data, and refuses to measure otherwise. Each measurement follows
 * --warmup <s> (3) of the same load, unmeasured but for the peak RSS: every
 * server is measured warm, as it runs in production, not while its JIT
 * compiles the code the load reaches first. Options: --duration <s> (10),
 * --connections <n> (32), --rounds <n> (2, the server order alternating),
 * --servers groundwork,reference,postgraphile (all), --scenarios q1,q2,q3 (all),
 * --profile (instead of the
 * rounds: a CPU profile of groundwork under each scenario, self time by bucket),
 * --tracing (groundwork exports its traces to an OTLP/HTTP receiver started
 * here, which counts them: the cost of tracing on), --baseline <commit> (also
 * runs groundwork as built from that commit, in a git worktree at
 * .bench/baseline, as the server `baseline`, and ends with the medians of
 * both over the rounds: a change measured against what it changes, in one
 * run; the commit must have the same migrations), --node-flags "<flags>"
 * (groundwork, not the baseline, starts with these Node/V8 flags before the
 * Dockerfile's: with `--baseline HEAD`, a flag measured against the
 * Dockerfile's start in one run).
 * BENCH_DATABASE_URL names the PostgreSQL server (an admin URL; default
 * postgres://postgres@127.0.0.1:5432/postgres); the bench uses its own
 * database, groundwork_bench (or BENCH_DATABASE), seeding it once.
 */
const option = (name: string, fallback: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
};
const DURATION = Number(option('duration', '10'));
const WARMUP = Number(option('warmup', '3'));
const CONNECTIONS = Number(option('connections', '32'));
const ROUNDS = Number(option('rounds', '2'));
const PROFILE = process.argv.includes('--profile');
const TRACING = process.argv.includes('--tracing');
const BASELINE = option('baseline', '');
const NODE_FLAGS = option('node-flags', '').split(/\s+/).filter(Boolean);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
// BENCH_DATABASE: another database of the bench's own (two checkouts on one server, each migrated by its own code).
const DATABASE = process.env.BENCH_DATABASE ?? 'groundwork_bench';
const BENCH_URL = databaseUrlOn(ADMIN_URL, DATABASE);
const MEMBER = { email: 'user5@org0.example.com', password: 'groundwork-demo' };
const PROFILES_DIR = join(root, '.bench', 'profiles');
const LOGS_DIR = join(root, '.bench', 'logs');
const JWT = { JWT_SECRET: randomBytes(32).toString('hex'), JWT_ISSUER: 'groundwork', JWT_AUDIENCE: 'groundwork-api' };
const DATA_ENCRYPTION_KEYS = `bench:${randomBytes(32).toString('base64')}`;

interface Measurement {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Including the SQL of the event handlers the requests caused. */
  statementsPerRequest: number;
  /** Of those, BEGIN, COMMIT, ROLLBACK, SAVEPOINT and RELEASE. */
  transactionControlPerRequest: number;
  cpuMsPerRequest: number;
  requests: number;
  errors: number;
  /** How long after the load the last event it raised was handled. */
  drainSeconds: number;
  /** The server's largest resident memory under the load (read every 0.1 s), MiB. */
  peakRssMiB: number;
}

async function prepareDatabase(): Promise<void> {
  const exists = await withClient(
    ADMIN_URL,
    async (client) => (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE])).rowCount,
  );
  if (!exists) await withClient(ADMIN_URL, (client) => client.query(`CREATE DATABASE ${DATABASE}`));
  const seeded = await withClient(BENCH_URL, async (client) => {
    const table = await client.query<{ t: string | null }>(`SELECT to_regclass('public.tasks') AS t`);
    if (!table.rows[0].t) return false;
    return Number((await client.query<{ count: string }>('SELECT count(*) FROM tasks')).rows[0].count) >= 50_000;
  });
  if (!seeded) {
    process.stdout.write(`seeding ${DATABASE} (large)...\n`);
    execFileSync(process.execPath, ['dist/scripts/seed.js', '--scale', 'large', '--force'], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        NODE_ENV: 'production',
        JWT_SECRET: randomBytes(32).toString('hex'),
        DATA_ENCRYPTION_KEYS,
        DATABASE_URL: BENCH_URL,
        LOG_LEVEL: 'error',
      },
    });
  }
}

/**
 * Before each write measurement: VACUUM (ANALYZE) of the tables the writes and their events grow, standing in for
 * autovacuum. Without it (this machine's PostgreSQL runs with autovacuum off) every run left the outbox as many dead
 * rows as it relayed (303,243 live and 303,243 dead after a few runs), and the relay's drain time grew run after run
 * (0.2, 3.1, 1.0, 3.3, 2.2, 7.6, 9.5, 14.2 s in one sequence), whatever the code measured.
 */
async function vacuumWrittenTables(databaseUrl: string): Promise<void> {
  await withClient(databaseUrl, (client) =>
    client.query('VACUUM (ANALYZE) outbox, event_consumptions, event_failures, comments, notifications'),
  );
}

/** Waits until every event in the outbox was handled (read straight from PostgreSQL, not counted); answers how long that took, s. */
async function drainEvents(databaseUrl: string): Promise<number> {
  const started = Date.now();
  await withClient(databaseUrl, async (client) => {
    for (;;) {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL',
      );
      if (rows[0].n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  return Math.round((Date.now() - started) / 100) / 10;
}

function readComment(id: string, server: Running): Promise<StoredComment | undefined> {
  return withClient(server.databaseUrl, async (client) => {
    const sql =
      'SELECT task_id AS "taskId", author_id AS "authorId", organization_id AS "organizationId" FROM comments WHERE id = $1';
    return (await client.query<StoredComment>(sql, [id])).rows[0];
  });
}

/**
 * `--baseline <commit>`: that commit checked out (detached) in a git worktree at .bench/baseline, using this
 * checkout's node_modules, and built there. Each of the two runs on a copy of the bench's database made here (the same
 * rows and ids): on one database they would share the outbox and its relay's lease, and one would handle the other's
 * events; and two copies made alike, not the long-used database against a fresh copy (two runs of one commit so
 * differed by 12% on q3).
 */
async function prepareBaseline(commit: string): Promise<{ baseline: Baseline; currentUrl: string }> {
  const dir = join(root, '.bench', 'baseline');
  const git = (args: string[], cwd = root) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const sha = git(['rev-parse', '--verify', `${commit}^{commit}`]);
  if (!existsSync(join(dir, '.git'))) {
    git(['worktree', 'prune']);
    git(['worktree', 'add', '--detach', dir, sha]);
  } else git(['checkout', '--quiet', '--force', '--detach', sha], dir);
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  process.stdout.write(`building the baseline, ${git(['log', '-1', '--format=%h %s', sha])}...\n`);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: dir, stdio: 'inherit' });
  const [current, base] = [`${DATABASE}_current`, `${DATABASE}_baseline`];
  await withClient(ADMIN_URL, async (client) => {
    for (const copy of [current, base]) {
      await client.query(`DROP DATABASE IF EXISTS ${copy}`);
      await client.query(`CREATE DATABASE ${copy} TEMPLATE ${DATABASE}`);
    }
  });
  return {
    baseline: { label: 'baseline', dir, databaseUrl: databaseUrlOn(ADMIN_URL, base) },
    currentUrl: databaseUrlOn(ADMIN_URL, current),
  };
}

async function measure(server: Running, scenario: Scenario, headers: Record<string, string>): Promise<Measurement> {
  const request = scenario.requests[server.kind];
  const url = `${server.baseUrl}${request.path}`;
  const drain = server.kind === 'groundwork' ? () => drainEvents(server.databaseUrl) : undefined;
  const load = (duration: number) =>
    autocannon({
      url,
      method: 'POST',
      connections: CONNECTIONS,
      duration,
      headers: { 'content-type': 'application/json', ...headers },
      body: request.body,
    });
  await post(url, request.body, headers);
  await drain?.();
  // The peak RSS covers the warm-up too: it is load.
  const rss = sampleRss(server.pid);
  if (WARMUP > 0) {
    await load(WARMUP);
    await drain?.();
  }
  if (scenario.writes) await vacuumWrittenTables(server.databaseUrl);
  server.counter.reset();
  const cpuBefore = cpuSeconds(server.pid);
  const result = await load(DURATION);
  const peakRss = rss.stop();
  // The events the requests raised are part of their cost: their SQL and CPU count, and the next measurement starts after them.
  const drainSeconds = (await drain?.()) ?? 0;
  const completed = result.requests.total || 1;
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    statementsPerRequest: Math.round((server.counter.statements / completed) * 100) / 100,
    transactionControlPerRequest: Math.round((server.counter.transactionControl / completed) * 100) / 100,
    cpuMsPerRequest: Math.round(((cpuSeconds(server.pid) - cpuBefore) * 1000 * 100) / completed) / 100,
    requests: result.requests.total,
    errors: result.errors + result.non2xx,
    drainSeconds,
    peakRssMiB: peakRss,
  };
}

/** Every measurement of the rounds, by scenario name, then server name. */
type Measured = Map<string, Map<string, Measurement[]>>;

async function rounds(running: Running[], list: Scenario[], headers: Record<string, string>): Promise<Measured> {
  const measured: Measured = new Map(list.map((scenario) => [scenario.name, new Map<string, Measurement[]>()]));
  process.stdout.write(
    `\n${CONNECTIONS} connections, ${DURATION} s per scenario and server after ${WARMUP} s of the same load unmeasured, ${ROUNDS} round(s); SQL counted at a proxy in front of PostgreSQL, one per server; ` +
      `CPU of the server process from /proc (events included); server logs in ${LOGS_DIR}\n` +
      // groundwork's logIn above ran scrypt on the member's password (128 MiB per hash while it runs): not part of the load.
      `peak RSS before the load (start-up, the logIn, the answers check): ${running.map((server) => `${server.name} ${peakRssMiB(server.pid)} MiB`).join(', ')}\n`,
  );
  for (let round = 1; round <= ROUNDS; round += 1) {
    const order = round % 2 === 1 ? running : [...running].reverse();
    const peakUnderLoad = new Map<string, number>();
    const rows: string[] = [];
    for (const scenario of list) {
      const results = new Map<string, Measurement>();
      for (const server of order) {
        const m = await measure(server, scenario, headers);
        results.set(server.name, m);
        peakUnderLoad.set(server.name, Math.max(peakUnderLoad.get(server.name) ?? 0, m.peakRssMiB));
        const byServer = measured.get(scenario.name)!;
        byServer.set(server.name, [...(byServer.get(server.name) ?? []), m]);
      }
      const limit = results.get('reference');
      for (const server of running) {
        const m = results.get(server.name)!;
        const notes = [
          scenario.writes && server.kind === 'groundwork' ? `events handled ${m.drainSeconds} s after the load` : '',
          m.errors > 0 ? `${m.errors} errors` : '',
          m.requests === 0 ? 'no request completed: run longer' : '',
        ]
          .filter(Boolean)
          .join('; ');
        const ratio = limit ? (m.requestsPerSecond / limit.requestsPerSecond).toFixed(2) : '-';
        rows.push(
          `| ${scenario.name} | ${server.name} | ${m.requestsPerSecond} | ${m.p50} | ${m.p99} | ${m.statementsPerRequest} (${m.transactionControlPerRequest}) | ${m.cpuMsPerRequest} | ${ratio} | ${notes} |`,
        );
      }
    }
    process.stdout.write(
      `\nround ${round} (order: ${order.map((server) => server.name).join(', ')}); peak RSS under the load (read every 0.1 s): ${running.map((server) => `${server.name} ${peakUnderLoad.get(server.name)} MiB`).join(', ')}\n` +
        '| scenario | server | req/s | p50 ms | p99 ms | SQL/req (of which BEGIN/COMMIT) | CPU ms/req | req/s ÷ reference | notes |\n' +
        '|---|---|---|---|---|---|---|---|---|\n' +
        `${rows.join('\n')}\n`,
    );
  }
  return measured;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** `--baseline`: groundwork against the baseline, as medians over the rounds (one run varies by about ±8%). */
function baselineTable(measured: Measured): string {
  const change = (now: number, before: number) =>
    `${now >= before ? '+' : ''}${((now / before - 1) * 100).toFixed(1)}%`;
  const rows = [...measured].map(([scenario, byServer]) => {
    const ours = byServer.get('groundwork')!;
    const base = byServer.get('baseline')!;
    const both = (of: (m: Measurement) => number, step: number) =>
      [ours, base].map((list) => Math.round(median(list.map(of)) / step) * step);
    const [rps, cpu, p99] = [
      both((m) => m.requestsPerSecond, 1),
      both((m) => m.cpuMsPerRequest, 0.01),
      both((m) => m.p99, 1),
    ];
    return `| ${scenario} | ${rps[1]} → ${rps[0]} (${change(rps[0], rps[1])}) | ${cpu[1].toFixed(2)} → ${cpu[0].toFixed(2)} (${change(cpu[0], cpu[1])}) | ${p99[1]} → ${p99[0]} | ${ours.length} |`;
  });
  return (
    '\nbaseline → groundwork, medians over the rounds\n' +
    '| scenario | req/s | CPU ms/req | p99 ms | rounds |\n|---|---|---|---|---|\n' +
    `${rows.join('\n')}\n`
  );
}

async function profile(groundwork: Running, list: Scenario[], headers: Record<string, string>): Promise<void> {
  mkdirSync(PROFILES_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const results = [];
  process.stdout.write(`\nprofiling groundwork: ${CONNECTIONS} connections, ${DURATION} s per scenario\n`);
  for (const scenario of list) {
    const short = scenario.name.split(' ')[0];
    const file = join(PROFILES_DIR, `groundwork-${short}-${stamp}.cpuprofile`);
    const { profile: cpu, result } = await profileAround(groundwork.child, file, () =>
      measure(groundwork, scenario, headers),
    );
    process.stdout.write(
      `${scenario.name}: ${result.requestsPerSecond} req/s under the profiler, ${result.cpuMsPerRequest} CPU ms/req (from /proc); ${file}\n`,
    );
    results.push({
      name: short,
      summary: summarise(cpu),
      requests: result.requests,
      cpuMsPerRequest: result.cpuMsPerRequest,
    });
  }
  process.stdout.write(
    `\nself time by bucket (open a .cpuprofile in Chrome DevTools or speedscope for the call tree)\n${bucketTable(results)}`,
  );
}

/**
 * The member's access token, which all three servers verify with the same secret: from groundwork's logIn when it
 * runs; otherwise signed here in its format (HS256, typ at+jwt, sub, iss, aud, exp).
 */
async function accessToken(groundwork: Running | undefined, memberId: string): Promise<string> {
  if (groundwork) {
    const body = JSON.stringify({
      query: 'mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }',
      variables: { i: MEMBER },
    });
    return ((await post(groundwork.baseUrl, body, {})) as { logIn: { accessToken: string } }).logIn.accessToken;
  }
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setSubject(memberId)
    .setIssuer(JWT.JWT_ISSUER)
    .setAudience(JWT.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('12h')
    .sign(new TextEncoder().encode(JWT.JWT_SECRET));
}

async function main(): Promise<void> {
  const servers = PROFILE ? (['groundwork'] as ServerName[]) : parseServers(option('servers', SERVERS.join(',')));
  if (BASELINE && (PROFILE || !servers.includes('groundwork')))
    throw new Error('--baseline compares with groundwork: it needs groundwork among the --servers, and no --profile');
  process.stdout.write('building...\n');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const compared = BASELINE ? await prepareBaseline(BASELINE) : undefined;
  await prepareDatabase();
  const runtimes = await prepareRuntimes(servers, BENCH_URL);
  const active = servers.filter((name) => name !== 'postgraphile' || runtimes.postgraphile);
  const running: Running[] = [];
  // Keeps no span, only counts them: the receiver shares this process with autocannon.
  const traces = TRACING ? new OtlpReceiver(0) : undefined;
  try {
    const settings = {
      tracesEndpoint: await traces?.start(),
      benchUrl: BENCH_URL,
      runtimes,
      jwt: JWT,
      dataEncryptionKeys: DATA_ENCRYPTION_KEYS,
      profile: PROFILE,
      logsDir: LOGS_DIR,
      nodeFlags: NODE_FLAGS,
    };
    for (const name of active) {
      const own = name === 'groundwork' && compared ? { ...settings, benchUrl: compared.currentUrl } : settings;
      running.push(await startServer(name, own));
    }
    if (compared) running.splice(1, 0, await startServer('groundwork', settings, compared.baseline));
    const fixture = await withClient(
      BENCH_URL,
      async (client) =>
        (
          await client.query(
            `SELECT o.id AS "organizationId", t.id AS "taskId", u.id AS "memberId" FROM organizations o JOIN tasks t ON t.organization_id = o.id, users u
          WHERE o.slug = 'org-0' AND t.assignee_id IS NOT NULL AND u.email = $1 ORDER BY t.id LIMIT 1`,
            [MEMBER.email],
          )
        ).rows[0] as { organizationId: string; taskId: string; memberId: string },
    );
    const token = await accessToken(
      running.find((server) => server.name === 'groundwork'),
      fixture.memberId,
    );
    const headers = { authorization: `Bearer ${token}` };
    const picked = option('scenarios', '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    const list = scenarios(fixture).filter(
      (scenario) => picked.length === 0 || picked.includes(scenario.name.split(' ')[0]),
    );
    if (list.length === 0)
      throw new Error(`--scenarios takes a comma-separated list of q1, q2, q3; got "${picked.join(',')}"`);
    process.stdout.write(
      `servers on Node ${runtimes.node ? NODE_VERSION : process.versions.node}: ${running.map((server) => server.name).join(', ')}\n`,
    );
    if (PROFILE) return await profile(running[0], list, headers);
    if (running.length > 1) {
      const expected = { taskId: fixture.taskId, authorId: fixture.memberId, organizationId: fixture.organizationId };
      for (const line of await checkSameAnswers(running, list, headers, expected, readComment))
        process.stdout.write(`${line}\n`);
    }
    const measured = await rounds(running, list, headers);
    if (compared) process.stdout.write(baselineTable(measured));
  } finally {
    await Promise.all(running.map(stopServer));
    if (traces) process.stdout.write(`\ntracing on: ${traces.received} spans received over OTLP/HTTP\n`);
    await traces?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
