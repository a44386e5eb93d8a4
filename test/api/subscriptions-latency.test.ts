import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { QueryRunner } from 'typeorm';
import { Transaction } from '../../src/platform/database/unit-of-work';
import { ANONYMOUS } from '../../src/platform/graphql/context';
import { createOrganization, type Session } from '../support/organizations';
import { createProject, createTask } from '../support/projects';
import { publishTestEvent, redisStreamsEnv, redisUrl } from '../support/events';
import { liveClient, type LiveClient } from '../support/live-client';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { usingPostgres } from '../support/test-database';
import { waitFor } from '../support/wait';

const TASK_CHANGED = `subscription($projectId: ID!) { taskChanged(projectId: $projectId) { kind taskId changes } }`;
/** The Redis relay's advisory lock (redis-relay.ts): held by whichever instance relays. */
const RELAY_LOCK = 0x6777_7265;

(redisUrl && usingPostgres ? describe : describe.skip)('live latency (PostgreSQL and Redis)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function start(env: Record<string, string>): Promise<TestApp> {
    const redis = redisStreamsEnv(redisUrl!);
    const api = await startTestApp({ ...redis.env, ...env });
    cleanups.push(redis.cleanup, () => api.stop());
    return api;
  }

  it('delivers an event while requests hold every pool connection: the relay and the live reads have their own', async () => {
    const api = await start({ DATABASE_POOL_MAX: '4' });
    const owner: Session = await signUp(api);
    const organizationId = (await createOrganization(api, owner)).id;
    const projectId = (await createProject(api, owner, organizationId)).id;
    const client: LiveClient = liveClient(api.baseUrl, owner.accessToken);
    cleanups.push(() => client.dispose());
    const changes = client.subscribe(TASK_CHANGED, { projectId });
    await waitFor(() => api.app.live.size === 1, 'the subscription');
    // A first delivery: the relay and the hub hold their connections from here on.
    const task = await createTask(api, owner, projectId, { title: 'First' });
    await waitFor(() => changes.results.length === 1, 'the first change');

    // Requests ask for every connection of the pool (4): they get all it can give, the rest of them queue.
    const pool = (api.app.dataSource.driver as unknown as { master: { waitingCount: number } }).master;
    const held: QueryRunner[] = [];
    const asked = Array.from({ length: 4 }, async () => {
      const runner = api.app.dataSource.createQueryRunner();
      await runner.connect();
      held.push(runner);
      return runner;
    });
    await waitFor(() => held.length + pool.waitingCount >= 4 && held.length > 0, 'the pool to be taken');
    try {
      const [writer] = held;
      await writer.startTransaction();
      await api.app.events.publisher.publish(
        new Transaction(writer.manager),
        { requestId: 'held-pool', viewer: ANONYMOUS },
        {
          type: 'task.updated',
          organizationId,
          subject: { type: 'task', id: task.id },
          data: { projectId, taskId: task.id, changes: { title: { from: 'First', to: 'Second' } } },
        },
      );
      await writer.commitTransaction();
      await waitFor(() => changes.results.length === 2, 'the change, with the pool taken', 10_000);
      expect(changes.results[1].data!.taskChanged).toMatchObject({ kind: 'UPDATED', taskId: task.id });
    } finally {
      // Each release hands the connection to a request still queued, which gives it back in turn.
      while (held.length > 0) await held.shift()!.release();
      for (const runner of await Promise.all(asked)) await runner.release();
    }
  });

  it('relays an event committed while another instance relayed at once, not at the next poll', async () => {
    const api = await start({ EVENTS_POLL_INTERVAL_MS: '600000' });
    // Another instance mid-batch: it read the outbox before the commit below, and holds the relay's lock.
    const other = api.app.dataSource.createQueryRunner();
    await other.startTransaction();
    await other.query(`SELECT pg_advisory_xact_lock($1)`, [RELAY_LOCK]);
    let event: Awaited<ReturnType<typeof publishTestEvent>>;
    try {
      const before = api.logs.find('another instance is relaying events; looking again shortly').length;
      event = await publishTestEvent(api, 'test.latency', { id: randomUUID() });
      // The commit woke this instance's relay, which found the lock taken.
      await waitFor(
        () => api.logs.find('another instance is relaying events; looking again shortly').length > before,
        'the relay to find the lock taken',
      );
    } finally {
      await other.commitTransaction();
      await other.release();
    }
    const redis = new Redis(redisUrl!);
    cleanups.push(async () => void redis.disconnect());
    const stream = `${api.config.REDIS_KEY_PREFIX}events`;
    await waitFor(
      async () => (await redis.xrange(stream, '-', '+')).some(([, fields]) => fields.join(' ').includes(event.id)),
      'the event on the stream',
      10_000,
    );
  });
});
