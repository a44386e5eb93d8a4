import { FAST_EVENTS, publishTestEvent, redisStreamsEnv, redisUrl } from '../support/events';
import { startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

/*
 * The events' housekeeping (forgetting what is past retention, trimming the
 * stream) runs once per interval across the fleet, not in every instance:
 * the instance that takes the housekeeping lease runs it, the others skip.
 * Several instances on one PostgreSQL (ROLE=all on the inline transport, and
 * ROLE=worker as in production, on Redis Streams when the run has Redis); one
 * on embedded PGlite (one process per data directory).
 */
const INSTANCES = usingPostgres ? 3 : 1;
type Fleet = () => { env: Record<string, string>; cleanup(): Promise<void> };
const inline: Fleet = () => ({ env: { EVENTS_TRANSPORT: 'inline' }, cleanup: async () => undefined });
const fleets: [string, Fleet][] = [['ROLE=all, inline', inline]];
if (usingPostgres)
  fleets.push([
    redisUrl ? 'ROLE=worker, redis-streams' : 'ROLE=worker, inline',
    () => {
      // Redis Streams settles an event at the redelivery sweep: soon, here.
      const transport = redisUrl ? redisStreamsEnv(redisUrl) : inline();
      return { ...transport, env: { ROLE: 'worker', EVENTS_REDELIVER_AFTER_MS: '100', ...transport.env } };
    },
  ]);

describe.each(fleets)(`housekeeping with ${INSTANCES} instance(s) on one database (%s)`, (_, fleet) => {
  const instances: TestApp[] = [];
  let database: TestDatabase;
  // One fleet: the same settings (and Redis key prefix) for every instance.
  const { env, cleanup } = fleet();

  beforeAll(async () => {
    database = await createTestDatabase();
    // Retention of one second: a relayed event is past it a second later.
    for (let index = 0; index < INSTANCES; index += 1) {
      instances.push(await startTestApp({ ...FAST_EVENTS, ...env, EVENTS_OUTBOX_RETENTION: '1s' }, database));
    }
  });

  afterAll(async () => {
    for (const instance of instances) await instance.stop();
    await database?.drop();
    await cleanup();
  });

  const db = () => instances[0].app.dataSource;
  const count = async (sql: string, params: unknown[] = []) =>
    ((await db().query(`SELECT count(*)::int AS n FROM (${sql}) counted`, params)) as [{ n: number }])[0].n;
  /** As if the interval of the last run were over. */
  const intervalOver = () =>
    db().query(`UPDATE event_relay_leases SET expires_at = now() - interval '1 second' WHERE name = 'housekeeping'`);

  it('runs in exactly one instance per interval, whichever asks first, and does its work there', async () => {
    const event = await publishTestEvent(instances[0], 'test.ping');
    await waitFor(
      async () => (await count('SELECT 1 FROM outbox WHERE id = $1 AND relayed_at IS NOT NULL', [event.id])) === 1,
      'the event to be relayed',
    );
    await waitFor(
      async () =>
        (await count(
          `SELECT 1 FROM outbox WHERE id = $1 AND settled_at IS NOT NULL AND relayed_at < now() - interval '1 second'`,
          [event.id],
        )) === 1,
      'it to be past retention',
    );
    await intervalOver();

    const ran = await Promise.all(instances.map((instance) => instance.app.events.housekeepIfDue(60_000)));
    expect(ran.filter(Boolean)).toHaveLength(1);
    expect(await count('SELECT 1 FROM outbox WHERE id = $1', [event.id])).toBe(0);

    // Within the interval nobody runs it again, the one that ran included.
    expect(
      (await Promise.all(instances.map((instance) => instance.app.events.housekeepIfDue(60_000)))).filter(Boolean),
    ).toHaveLength(0);

    // The next interval: again exactly one.
    await intervalOver();
    expect(
      (await Promise.all(instances.map((instance) => instance.app.events.housekeepIfDue(60_000)))).filter(Boolean),
    ).toHaveLength(1);
    const [lease] = (await db().query(`SELECT holder FROM event_relay_leases WHERE name = 'housekeeping'`)) as {
      holder: string;
    }[];
    expect(instances.map((instance) => instance.app.events.instanceId)).toContain(lease.holder);
  });
});
