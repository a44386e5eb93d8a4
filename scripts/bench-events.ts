import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpus, platform, release } from 'node:os';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config/config';
import { defineConsumer } from '../src/platform/events/event';
import type { EventOrigin } from '../src/platform/events/outbox';
import { scriptLogger } from './cli-support';
import {
  createThrowawayDatabase,
  deleteRedisKeys,
  endpoint,
  now,
  probePostgres,
  probeRedis,
  waitForHandled,
  type ThrowawayDatabase,
} from './bench-events-support';
import { percentile } from './process-support';
import { Transaction } from '../src/platform/database/unit-of-work';

/**
 * `npm run bench:events`: the domain-event bus from outbox to handler, once per
 * transport: embedded PGlite with the inline relay (what `npm start` runs),
 * PostgreSQL with the inline relay, PostgreSQL with Redis Streams. Writers
 * publish one event per transaction, as services do; a bench consumer notes
 * when each handler starts. Options: --events <n> (2000), --concurrency <n>
 * writers (8), --warmup <n> events not measured (200), --timeout <s> (120),
 * --paced-events <n> (500) at --rate <n> events/s (100) for latency without a backlog,
 * and --backlog <n> (5000) events committed in one transaction: how fast the bus drains an
 * outbox that is already full, whatever the writers could commit (its own capacity).
 * BENCH_DATABASE_URL names the PostgreSQL server (an admin URL; default
 * postgres://postgres@127.0.0.1:5432/postgres), where each run gets a database
 * of its own, dropped after. BENCH_REDIS_URL names Redis (default
 * redis://127.0.0.1:6379/15); the run's keys carry a prefix of their own and
 * are deleted after. A server that does not answer skips its rows.
 */
const option = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const EVENTS = option('events', 2000);
const CONCURRENCY = option('concurrency', 8);
const WARMUP = option('warmup', 200);
const TIMEOUT_MS = option('timeout', 120) * 1000;
const PACED_RATE = option('rate', 100);
const PACED_EVENTS = option('paced-events', 500);
const BACKLOG = option('backlog', 5000);
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
const EVENT_TYPE = 'bench.ping';

type BenchEvents = { [EVENT_TYPE]: { sentAt: number } };

interface Transport {
  name: string;
  needs: ('postgres' | 'redis')[];
  /** Settings of the run besides the common ones; `database` is absent for the embedded run. */
  env(database: ThrowawayDatabase | undefined, redisPrefix: string): Record<string, string>;
}

interface Latencies {
  p50: number;
  p99: number;
  max: number;
}

interface Measurement {
  eventsPerSecond: number;
  /** Commit to handler start with one writer at PACED_RATE events/s, below what the bus can take: latency without a queue. */
  paced: Latencies;
  /** How fast the writers committed: above eventsPerSecond, the outbox backs up and latency is mostly queueing. */
  commitsPerSecond: number;
  /** BACKLOG events committed at once, drained: events/s from that commit to the last handler start. */
  backlogPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  metrics: Record<string, number>;
}

const TRANSPORTS: Transport[] = [
  {
    name: 'embedded-inline',
    needs: [],
    env: () => ({ DATABASE_EMBEDDED_PATH: 'memory://', EVENTS_TRANSPORT: 'inline' }),
  },
  {
    name: 'postgres-inline',
    needs: ['postgres'],
    env: (database) => ({ DATABASE_URL: database!.url, EVENTS_TRANSPORT: 'inline' }),
  },
  {
    name: 'postgres-redis-streams',
    needs: ['postgres', 'redis'],
    env: (database, redisPrefix) => ({
      DATABASE_URL: database!.url,
      EVENTS_TRANSPORT: 'redis-streams',
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
    }),
  },
];

/** One app on one transport: a warm-up, then the measured events; stopped whatever happens. */
async function measure(env: Record<string, string>): Promise<Measurement> {
  const { config } = loadConfig({
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(32).toString('hex'),
    DATA_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    LOG_LEVEL: 'warn',
    EVENTS_POLL_INTERVAL_MS: '1000',
    ...env,
  });
  const handlerStarts = new Map<string, number>();
  const consumer = defineConsumer<BenchEvents>('bench', {
    [EVENT_TYPE]: async (event) => {
      const startedAt = now();
      if (!handlerStarts.has(event.id)) handlerStarts.set(event.id, startedAt);
    },
  });
  const app = await createApp(config, scriptLogger(config), { consumers: [consumer] });
  const origin: EventOrigin = { requestId: randomUUID(), viewer: { kind: 'anonymous' } };
  const commits = new Map<string, number>();

  /** `count` events from CONCURRENCY writers, one transaction each; resolves when all committed. */
  const publish = async (count: number): Promise<void> => {
    let claimed = 0;
    const writer = async () => {
      while (claimed < count) {
        claimed += 1;
        const event = await app.dataSource.transaction((manager) =>
          app.events.publisher.publish(new Transaction(manager), origin, {
            type: EVENT_TYPE,
            organizationId: null,
            subject: { type: 'bench', id: randomUUID() },
            data: { sentAt: now() },
          }),
        );
        commits.set(event.id, now());
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, writer));
  };

  /** `count` events from one writer, one every 1/rate s; resolves when all committed. */
  const publishPaced = async (count: number, rate: number): Promise<void> => {
    const start = now();
    for (let index = 0; index < count; index += 1) {
      const wait = start + (index * 1000) / rate - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const event = await app.dataSource.transaction((manager) =>
        app.events.publisher.publish(new Transaction(manager), origin, {
          type: EVENT_TYPE,
          organizationId: null,
          subject: { type: 'bench', id: randomUUID() },
          data: { sentAt: now() },
        }),
      );
      commits.set(event.id, now());
    }
  };
  /** `count` events in one transaction: a full outbox at the moment it commits. Resolves with the commit time. */
  const publishBacklog = async (count: number): Promise<number> => {
    const ids: string[] = [];
    await app.dataSource.transaction(async (manager) => {
      for (let index = 0; index < count; index += 1) {
        const event = await app.events.publisher.publish(new Transaction(manager), origin, {
          type: EVENT_TYPE,
          organizationId: null,
          subject: { type: 'bench', id: randomUUID() },
          data: { sentAt: now() },
        });
        ids.push(event.id);
      }
    });
    const committedAt = now();
    for (const id of ids) commits.set(id, committedAt);
    return committedAt;
  };
  const progress = () => `bus metrics ${JSON.stringify(app.events.metrics.snapshot())}`;

  let timings: Omit<Measurement, 'metrics'>;
  try {
    await publish(WARMUP);
    await waitForHandled(handlerStarts, WARMUP, TIMEOUT_MS, progress);
    commits.clear();
    const firstCommitStart = now();
    await publish(EVENTS);
    const lastCommit = now();
    await waitForHandled(handlerStarts, WARMUP + EVENTS, TIMEOUT_MS, progress);
    const burst = {
      ...summarize(commits, handlerStarts, firstCommitStart),
      commitsPerSecond: EVENTS / ((lastCommit - firstCommitStart) / 1000),
    };
    commits.clear();
    const pacedStart = now();
    await publishPaced(PACED_EVENTS, PACED_RATE);
    await waitForHandled(handlerStarts, WARMUP + EVENTS + PACED_EVENTS, TIMEOUT_MS, progress);
    const { p50, p99, max } = summarize(commits, handlerStarts, pacedStart);
    commits.clear();
    let backlogPerSecond = NaN;
    if (BACKLOG > 0) {
      const committedAt = await publishBacklog(BACKLOG);
      await waitForHandled(handlerStarts, WARMUP + EVENTS + PACED_EVENTS + BACKLOG, TIMEOUT_MS, progress);
      backlogPerSecond = summarize(commits, handlerStarts, committedAt).eventsPerSecond;
    }
    timings = { ...burst, paced: { p50, p99, max }, backlogPerSecond };
  } finally {
    await app.stop();
  }
  // Taken once stopped, so the relay's last batch is counted as relayed.
  return { ...timings, metrics: app.events.metrics.snapshot() };
}

function summarize(
  commits: Map<string, number>,
  handlerStarts: Map<string, number>,
  firstCommitStart: number,
): Latencies & { eventsPerSecond: number } {
  const latencies: number[] = [];
  let lastHandlerStart = firstCommitStart;
  for (const [id, committedAt] of commits) {
    const startedAt = handlerStarts.get(id)!;
    latencies.push(startedAt - committedAt);
    lastHandlerStart = Math.max(lastHandlerStart, startedAt);
  }
  latencies.sort((a, b) => a - b);
  return {
    eventsPerSecond: commits.size / ((lastHandlerStart - firstCommitStart) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1],
  };
}

/** What must answer for the transport's row, or why it is skipped. */
async function unavailable(
  transport: Transport,
  reachable: Map<'postgres' | 'redis', string | undefined>,
): Promise<string | undefined> {
  for (const need of transport.needs) {
    if (!reachable.has(need))
      reachable.set(need, need === 'postgres' ? await probePostgres(ADMIN_URL) : await probeRedis(REDIS_URL));
    const problem = reachable.get(need);
    if (problem)
      return need === 'postgres'
        ? `PostgreSQL unreachable at ${endpoint(ADMIN_URL)} (${problem})`
        : `Redis unreachable at ${endpoint(REDIS_URL)} (${problem})`;
  }
  return undefined;
}

async function run(transport: Transport): Promise<Measurement> {
  const database = transport.needs.includes('postgres') ? await createThrowawayDatabase(ADMIN_URL) : undefined;
  const redisPrefix = `bench-events:${randomBytes(4).toString('hex')}:`;
  try {
    return await measure(transport.env(database, redisPrefix));
  } finally {
    if (transport.needs.includes('redis')) await deleteRedisKeys(REDIS_URL, redisPrefix);
    await database?.drop();
  }
}

const ms = (value: number) => value.toFixed(1);

async function main(): Promise<void> {
  const counts = [EVENTS, CONCURRENCY, WARMUP, TIMEOUT_MS, PACED_EVENTS, PACED_RATE, BACKLOG];
  if (
    !counts.every((value) => Number.isInteger(value) && value >= 0) ||
    EVENTS < 1 ||
    CONCURRENCY < 1 ||
    PACED_RATE < 1
  ) {
    throw new Error(
      '--events, --concurrency and --rate take a whole number of at least 1; --warmup, --paced-events, --backlog and --timeout one of at least 0',
    );
  }
  const cpu = cpus();
  process.stdout.write(
    `machine: ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), node ${process.version}, ${platform()} ${release()}\n` +
      `${EVENTS} events from ${CONCURRENCY} writers, one transaction each, after ${WARMUP} warm-up events; ` +
      'latency is commit (the transaction resolved) to handler start; the burst backs the outbox up, so its latency is mostly queueing;\n' +
      `then ${PACED_EVENTS} events from one writer at ${PACED_RATE} events/s (--paced-events, --rate): the latency of an unloaded bus;\n` +
      `last ${BACKLOG} events committed in one transaction (--backlog): how fast the bus drains a full outbox\n`,
  );

  const reachable = new Map<'postgres' | 'redis', string | undefined>();
  const rows: string[] = [];
  const notes: string[] = [];
  let failed = false;
  for (const transport of TRANSPORTS) {
    const skip = await unavailable(transport, reachable);
    if (skip) {
      notes.push(`${transport.name}: skipped, ${skip}`);
      continue;
    }
    process.stdout.write(`${transport.name}...\n`);
    try {
      const result = await run(transport);
      rows.push(
        `| ${transport.name} | ${Math.round(result.backlogPerSecond)} | ${Math.round(result.eventsPerSecond)} | ${ms(result.p50)} | ${ms(result.p99)} | ${ms(result.paced.p50)} | ${ms(result.paced.p99)} | ${ms(result.paced.max)} |`,
      );
      notes.push(
        `${transport.name}: writers committed ${Math.round(result.commitsPerSecond)} events/s; bus metrics (warm-up included) ${JSON.stringify(result.metrics)}`,
      );
    } catch (error) {
      failed = true;
      notes.push(`${transport.name}: FAILED, ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  process.stdout.write(
    `\n| transport | backlog of ${BACKLOG} drained, events/s | burst events/s | burst p50 ms | burst p99 ms | paced (${PACED_RATE}/s) p50 ms | paced p99 ms | paced max ms |\n` +
      '|---|---|---|---|---|---|---|---|\n' +
      `${rows.join('\n')}\n\n` +
      `${notes.map((note) => `- ${note}`).join('\n')}\n`,
  );
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:events failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
