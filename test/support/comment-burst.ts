import { randomBytes } from 'node:crypto';
import { TestConsumer } from './events';
import { addMember, createOrganization, ok, type Session } from './organizations';
import { ADD_COMMENT, createProject, createTask } from './projects';
import { signUp, startTestApp, type TestApp } from './test-app';
import { WebhookReceiver } from './webhook-receiver';
import { waitFor } from './wait';

/*
 * A burst of addComment calls with a fault in the middle, counted the way
 * issue 14 counts it: every committed comment must reach each consuming
 * module exactly once (an audit row, a notification for the task's
 * assignee, a webhook delivery, and a test consumer's handled record).
 */

/** The consumers every comment.added must reach; `recorder` is the burst's own, a slower one, so Redis holds a backlog when the fault strikes. */
export const BURST_CONSUMERS = ['audit', 'notifications', 'webhooks', 'recorder'] as const;
type BurstConsumer = (typeof BURST_CONSUMERS)[number];

/** Settings for the app: retries patient enough for a short outage (a handler failing then is retried, not dead-lettered). */
export const BURST_ENV = {
  LOG_LEVEL: 'info',
  EVENTS_TRANSPORT: 'redis-streams',
  EVENTS_POLL_INTERVAL_MS: '100',
  EVENTS_RETRY_BASE_MS: '250',
  EVENTS_MAX_ATTEMPTS: '10',
  EVENTS_HANDLER_TIMEOUT_MS: '5000',
  EVENTS_CLAIM_IDLE_MS: '6000',
  // Far past the test's waits: only the prompt rebuild can bring back what Redis lost.
  EVENTS_REDELIVER_AFTER_MS: '600000',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_HTTP_HOSTS: '127.0.0.1',
  WEBHOOK_POLL_INTERVAL_MS: '100',
  WEBHOOK_RETRY_SCHEDULE: '1s',
};

export interface BurstRig {
  /** The instance the test reads the database through. */
  api: TestApp;
  /** Both instances: the burst goes to each in turn. */
  instances: TestApp[];
  recorder: TestConsumer;
  receiver: WebhookReceiver;
  owner: Session;
  taskId: string;
  stop(): Promise<void>;
}

/**
 * Two instances of the app on the given PostgreSQL and Redis (one
 * deployment: one key prefix, one JWT secret), an organization with a webhook
 * endpoint, and a task assigned to a member (so each comment notifies one person).
 */
export async function startBurstRig(databaseUrl: string, redisUrl: string): Promise<BurstRig> {
  const recorder = new TestConsumer('recorder', ['comment.added']);
  recorder.behaviour = async (_event, _attempt, ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Recorded with the handled record, as the modules' consumers do: a second delivery finds it handled and stops here.
    await ctx.transaction(async () => undefined);
  };
  const receiver = new WebhookReceiver();
  const receiverUrl = await receiver.start();
  const env = {
    ...BURST_ENV,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: `gw-burst:${randomBytes(4).toString('hex')}:`,
    JWT_SECRET: randomBytes(32).toString('base64url'),
  };
  const start = () => startTestApp(env, { env: {}, drop: async () => undefined }, { consumers: [recorder.consumer] });
  const api = await start();
  const owner = await signUp(api);
  const organization = await createOrganization(api, owner, 'Burst');
  const member = await addMember(api, owner, organization.id, 'MEMBER');
  const project = await createProject(api, owner, organization.id);
  const task = await createTask(api, owner, project.id, { assigneeId: member.user.id });
  await ok(
    api.gql(
      `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }`,
      {
        input: { organizationId: organization.id, url: `${receiverUrl}/hook`, eventTypes: ['comment.added'] },
      },
      { token: owner.accessToken },
    ),
  );
  // Started once the invitation was mailed: its mail goes out from whichever instance handles the event.
  const peer = await start();
  return {
    api,
    instances: [api, peer],
    recorder,
    receiver,
    owner,
    taskId: task.id,
    async stop() {
      await Promise.all([api.stop(), peer.stop()]);
      await receiver.stop();
    },
  };
}

export interface Refusal {
  status: number;
  code: string | undefined;
  retryAfter: string | null;
}

export interface BurstOutcome {
  sent: number;
  acknowledged: string[];
  refused: Refusal[];
  /** Per consumer: comments relayed to Redis and not yet handled when the fault struck (what a transport-only design loses). */
  inRedisUnhandled: Record<string, number>;
}

/**
 * Sends `total` comments, `concurrency` at a time. Once `strikeAfter` are
 * answered and Redis holds a backlog (`strikeWhen`), `strike` runs while the
 * rest are sent.
 */
export async function sendBurst(
  rig: BurstRig,
  options: { total: number; strikeAfter: number; strike: () => Promise<void>; concurrency?: number },
): Promise<BurstOutcome> {
  const { api, instances, owner, taskId } = rig;
  const acknowledged: string[] = [];
  const refused: Refusal[] = [];
  let next = 0;
  const send = async (until: number) => {
    while (next < until) {
      next += 1;
      const response = await instances[next % instances.length]
        .gql(ADD_COMMENT, { input: { taskId, body: `comment ${next}` } }, { token: owner.accessToken })
        .catch(() => undefined);
      const id = response?.body.data?.addComment?.id as string | undefined;
      if (id) acknowledged.push(id);
      else
        refused.push({
          status: response?.status ?? 0,
          code: response?.body.errors?.[0]?.extensions.code,
          retryAfter: response?.headers.get('retry-after') ?? null,
        });
    }
  };
  const clients = (until: number) => Promise.all(Array.from({ length: options.concurrency ?? 8 }, () => send(until)));

  await clients(options.strikeAfter);
  const inRedisUnhandled = await waitFor(async () => {
    const counts = await unhandledInRedis(api);
    return counts.recorder > 0 ? counts : undefined;
  }, 'Redis to hold comments the recorder has not handled');
  const struck = options.strike();
  await clients(options.total);
  await struck;
  return { sent: next, acknowledged, refused, inRedisUnhandled };
}

async function unhandledInRedis(api: TestApp): Promise<Record<string, number>> {
  const rows = (await api.app.dataSource.query(
    `SELECT s.consumer, count(*)::int AS n FROM outbox o CROSS JOIN unnest($1::text[]) AS s(consumer)
      WHERE o.type = 'comment.added' AND o.relayed_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM event_consumptions c WHERE c.event_id = o.id AND c.consumer = s.consumer)
      GROUP BY s.consumer`,
    [BURST_CONSUMERS],
  )) as { consumer: string; n: number }[];
  return Object.fromEntries(
    BURST_CONSUMERS.map((consumer) => [consumer, rows.find((row) => row.consumer === consumer)?.n ?? 0]),
  );
}

export interface FaultFigures {
  fault: string;
  sent: number;
  acknowledged: number;
  refused: number;
  /** Comments in the database: acknowledged ones, and any whose answer the fault cut off after the commit. */
  committed: number;
  inRedisUnhandled: Record<string, number>;
  /** Per consumer: committed comments it never handled. */
  lost: Record<BurstConsumer, number>;
  /** Per consumer (and webhook requests received): comments handled, or sent, more than once. */
  duplicated: Record<BurstConsumer | 'webhook requests', number>;
  relayedAgain: number;
  /** From the last answer to every consumer done and every webhook received (or the wait given up). */
  drainedMs: number;
  acknowledgedButMissing: number;
}

/** Waits (up to `timeoutMs`) for every consumer and the webhook receiver to be done with the burst, then counts. */
export async function countBurst(
  rig: BurstRig,
  fault: string,
  outcome: BurstOutcome,
  timeoutMs = 60_000,
): Promise<FaultFigures> {
  const { api, recorder, receiver, taskId } = rig;
  const started = Date.now();
  const comments = async () =>
    (await api.app.dataSource.query(`SELECT id FROM comments WHERE task_id = $1`, [taskId])) as { id: string }[];
  await waitFor(
    async () => {
      const committed = await comments().catch(() => undefined);
      if (!committed || (await api.app.events.backlog().catch(() => 1)) > 0) return false;
      return new Set(receiver.received.map((request) => request.headers['webhook-id'])).size >= committed.length;
    },
    'every consumer and the webhook receiver to be done',
    timeoutMs,
  ).catch(() => undefined);
  const drainedMs = Date.now() - started;

  const committedIds = new Set((await comments()).map((row) => row.id));
  const events = (await api.app.dataSource.query(
    `SELECT id, subject_id AS "commentId" FROM outbox WHERE type = 'comment.added' AND subject_id = ANY($1::uuid[])`,
    [[...committedIds]],
  )) as { id: string; commentId: string }[];
  const perEvent = async (sql: string) =>
    new Map(
      ((await api.app.dataSource.query(sql, [events.map((event) => event.id)])) as { id: string; n: number }[]).map(
        (row) => [row.id, row.n],
      ),
    );
  const handled: Record<BurstConsumer, Map<string, number>> = {
    audit: await perEvent(`SELECT id, count(*)::int AS n FROM audit_events WHERE id = ANY($1::uuid[]) GROUP BY id`),
    notifications: await perEvent(
      `SELECT event_id AS id, count(*)::int AS n FROM notifications WHERE event_id = ANY($1::uuid[]) GROUP BY event_id`,
    ),
    webhooks: await perEvent(
      `SELECT event_id AS id, count(*)::int AS n FROM webhook_deliveries WHERE event_id = ANY($1::uuid[]) GROUP BY event_id`,
    ),
    recorder: new Map(events.map((event) => [event.id, recorder.timesHandled(event.id)])),
  };
  const count = (map: Map<string, number>, test: (n: number) => boolean) =>
    events.filter((event) => test(map.get(event.id) ?? 0)).length;
  const requests = new Map<string, number>();
  for (const request of receiver.received)
    requests.set(String(request.headers['webhook-id']), (requests.get(String(request.headers['webhook-id'])) ?? 0) + 1);
  return {
    fault,
    sent: outcome.sent,
    acknowledged: outcome.acknowledged.length,
    refused: outcome.refused.length,
    committed: committedIds.size,
    inRedisUnhandled: outcome.inRedisUnhandled,
    lost: Object.fromEntries(
      BURST_CONSUMERS.map((consumer) => [
        consumer,
        count(handled[consumer], (n) => n === 0) + (committedIds.size - events.length),
      ]),
    ) as FaultFigures['lost'],
    duplicated: {
      ...(Object.fromEntries(
        BURST_CONSUMERS.map((consumer) => [consumer, count(handled[consumer], (n) => n > 1)]),
      ) as Record<BurstConsumer, number>),
      'webhook requests': [...requests.values()].filter((n) => n > 1).length,
    },
    relayedAgain: rig.instances.reduce((sum, instance) => sum + instance.app.events.metrics.redelivered, 0),
    drainedMs,
    acknowledgedButMissing: outcome.acknowledged.filter((id) => !committedIds.has(id)).length,
  };
}

const perConsumer = (counts: Record<string, number>) => Object.values(counts).join(' / ');

/** The figures as README table rows (printed at the end of each fault file). */
export function figuresTable(rows: FaultFigures[]): string {
  const header = [
    '| fault | sent | acknowledged | refused | in Redis, unhandled, when it struck (audit / notifications / webhooks / recorder) | lost (same order) | duplicated (same order / webhook requests) | relayed again | drained in |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const lines = rows.map(
    (row) =>
      `| ${row.fault} | ${row.sent} | ${row.acknowledged} | ${row.refused} | ${perConsumer(row.inRedisUnhandled)} | ${perConsumer(row.lost)} | ${perConsumer(row.duplicated)} | ${row.relayedAgain} | ${(row.drainedMs / 1000).toFixed(1)} s |`,
  );
  return [...header, ...lines].join('\n');
}
