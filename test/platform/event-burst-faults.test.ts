import Redis from 'ioredis';
import { lastDeliveredIds, streamKeys } from '../../src/platform/events/redis';
import {
  countBurst,
  figuresTable,
  sendBurst,
  startBurstRig,
  type BurstRig,
  type FaultFigures,
  type Refusal,
} from '../support/comment-burst';
import { describeFaults } from '../support/faults';
import { startThrowawayPostgres, startThrowawayRedis, type ThrowawayServer } from '../support/throwaway-servers';

/*
 * Issue 14's count: a burst of comments through the API of two instances, a
 * fault in the middle, then every committed comment must have reached audit,
 * notifications, webhooks and a test consumer exactly once. Each test has a
 * PostgreSQL cluster and a redis-server of its own (no persistence: a
 * restart comes back empty). The figures are printed as README rows.
 */
jest.setTimeout(180_000);

const TOTAL = 400;
const figures: FaultFigures[] = [];

function expectNothingLostOrDuplicated(row: FaultFigures): void {
  expect({ lost: row.lost, duplicated: row.duplicated, acknowledgedButMissing: row.acknowledgedButMissing }).toEqual({
    lost: { audit: 0, notifications: 0, webhooks: 0, recorder: 0 },
    duplicated: { audit: 0, notifications: 0, webhooks: 0, recorder: 0, 'webhook requests': 0 },
    acknowledgedButMissing: 0,
  });
  // The fault struck while Redis held events not yet handled: the ones a transport-only design loses.
  expect(row.inRedisUnhandled.recorder).toBeGreaterThan(0);
}

/** Runs `command` against the test's Redis with a client of its own. */
async function onRedis(url: string, command: (client: Redis) => Promise<unknown>): Promise<void> {
  const client = new Redis(url);
  try {
    await command(client);
  } finally {
    client.disconnect();
  }
}

describeFaults(`a burst of ${TOTAL} comments to two instances with a fault in the middle`, () => {
  let postgres: ThrowawayServer;
  let redis: ThrowawayServer;
  let rig: BurstRig | undefined;

  beforeEach(async () => {
    [postgres, redis] = await Promise.all([startThrowawayPostgres(), startThrowawayRedis()]);
    rig = await startBurstRig(postgres.url, redis.url);
  });

  afterEach(async () => {
    await rig?.stop();
    await Promise.all([postgres?.destroy(), redis?.destroy()]);
  });

  afterAll(() => {
    if (figures.length > 0)
      process.stdout.write(`\nfault figures (${TOTAL} comments each):\n${figuresTable(figures)}\n\n`);
  });

  /** Sends the burst with `strike` after a quarter of it, counts, and keeps the figures for the table. */
  async function strikeMidBurst(
    fault: string,
    strike: () => Promise<unknown>,
  ): Promise<{ row: FaultFigures; refused: Refusal[] }> {
    const outcome = await sendBurst(rig!, {
      total: TOTAL,
      strikeAfter: TOTAL / 4,
      strike: async () => void (await strike()),
    });
    const row = await countBurst(rig!, fault, outcome);
    figures.push(row);
    return { row, refused: outcome.refused };
  }

  const streamKey = () => streamKeys(rig!.api.config.REDIS_KEY_PREFIX).events;

  it('Redis killed (SIGKILL) and restarted empty: every comment reaches every consumer once', async () => {
    const { row, refused } = await strikeMidBurst('Redis SIGKILL mid-burst, restarted empty', async () => {
      await redis.stop();
      await redis.start();
    });
    expect(refused).toEqual([]);
    expectNothingLostOrDuplicated(row);
    expect(row.relayedAgain).toBeGreaterThan(0);
  });

  it('every consumer group destroyed (XGROUP DESTROY): the groups are made again and nothing is lost', async () => {
    const { row, refused } = await strikeMidBurst('every consumer group destroyed mid-burst', () =>
      onRedis(redis.url, async (client) => {
        for (const group of (await lastDeliveredIds(client, streamKey())).keys())
          await client.xgroup('DESTROY', streamKey(), group);
      }),
    );
    expect(refused).toEqual([]);
    expectNothingLostOrDuplicated(row);
  });

  it('the stream deleted (DEL): it is rebuilt from the outbox at once, not after EVENTS_REDELIVER_AFTER_MS', async () => {
    const { row, refused } = await strikeMidBurst('the stream deleted mid-burst', () =>
      onRedis(redis.url, (client) => client.del(streamKey())),
    );
    expect(refused).toEqual([]);
    expectNothingLostOrDuplicated(row);
    expect(row.relayedAgain).toBeGreaterThan(0);
  });

  it('PostgreSQL restarted: what it refused is 503 SERVICE_UNAVAILABLE with Retry-After, and what it committed reaches every consumer once', async () => {
    const { row, refused } = await strikeMidBurst('PostgreSQL restarted mid-burst', async () => {
      await postgres.stop();
      await postgres.start();
    });
    expect(refused).toEqual(
      refused.map(() => ({ status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: expect.stringMatching(/^\d+$/) })),
    );
    expectNothingLostOrDuplicated(row);
  });
});
