import { randomBytes } from 'node:crypto';
import type { CaptureMailer } from '../../src/platform/mail/mailer';
import { ACCEPT, createOrganization, INVITE, ok, type Session } from '../support/organizations';
import { createProject, createTask } from '../support/projects';
import { redisStreamsEnv, redisUrl } from '../support/events';
import { liveClient, type LiveClient } from '../support/live-client';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { createTestDatabase, usingPostgres, type TestDatabase } from '../support/test-database';
import { waitFor } from '../support/wait';

const TASK_CHANGED = `subscription($projectId: ID!) {
  taskChanged(projectId: $projectId) { kind taskId changes task { id title description assignee { id } } }
}`;
const NOTIFICATION_ADDED = `subscription { notificationAdded { id type message } }`;
const ASSIGN = `mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id version } }`;

(redisUrl && usingPostgres ? describe : describe.skip)(
  'live subscriptions across two instances (PostgreSQL and Redis)',
  () => {
    const instances: TestApp[] = [];
    const clients: LiveClient[] = [];
    let database: TestDatabase;
    let cleanup: () => Promise<void>;
    let owner: Session;
    let member: Session;
    let projectId: string;

    beforeAll(async () => {
      database = await createTestDatabase();
      const redis = redisStreamsEnv(redisUrl!);
      cleanup = redis.cleanup;
      const shared = { ...redis.env, JWT_SECRET: randomBytes(32).toString('base64url') };
      for (let index = 0; index < 2; index += 1) instances.push(await startTestApp(shared, database));
      const [a] = instances;
      owner = await signUp(a);
      const organizationId = (await createOrganization(a, owner)).id;
      member = await signUp(a);
      await ok(
        a.gql(
          INVITE,
          { input: { organizationId, email: member.user.email, role: 'MEMBER' } },
          { token: owner.accessToken },
        ),
      );
      // Either instance's consumer may have mailed the invitation.
      const token = await waitFor(() => {
        const mailed = instances.flatMap((instance) => (instance.app.mailer as CaptureMailer).sent);
        const text = mailed
          .filter((message) => message.to === member.user.email)
          .map((message) => message.text)
          .join('\n');
        return /invitations\/accept\?token=([A-Za-z0-9_-]{43})/.exec(text)?.[1];
      }, 'the invitation mail');
      await ok(a.gql(ACCEPT, { token }, { token: member.accessToken }));
      projectId = (await createProject(a, owner, organizationId)).id;
    });

    afterAll(async () => {
      await Promise.all(clients.map((client) => client.dispose()));
      for (const instance of instances) await instance.stop();
      await database?.drop();
      await cleanup?.();
    });

    it('delivers an assignment made on A to subscribers on B, and nothing of it to another organization', async () => {
      const [a, b] = instances;
      const outsider = await signUp(a);
      const otherProject = (await createProject(a, outsider, (await createOrganization(a, outsider, 'Other')).id)).id;
      const watcher = liveClient(b.baseUrl, owner.accessToken);
      const assignee = liveClient(b.baseUrl, member.accessToken);
      const spy = liveClient(b.baseUrl, outsider.accessToken);
      clients.push(watcher, assignee, spy);
      const changes = watcher.subscribe(TASK_CHANGED, { projectId });
      const notifications = assignee.subscribe(NOTIFICATION_ADDED);
      const theirs = spy.subscribe(TASK_CHANGED, { projectId: otherProject });
      const theirNotifications = spy.subscribe(NOTIFICATION_ADDED);
      await waitFor(() => b.app.live.size === 4, 'four subscriptions on B');

      const task = await createTask(a, owner, projectId, { title: 'Made on A' });
      await ok(
        a.gql(
          ASSIGN,
          { input: { id: task.id, expectedVersion: task.version, assigneeId: member.user.id } },
          { token: owner.accessToken },
        ),
      );
      const sentinel = await createTask(a, outsider, otherProject, { title: 'Sentinel' });

      await waitFor(
        () => changes.results.some((result) => result.data!.taskChanged.kind === 'ASSIGNED'),
        'the assignment on B',
      );
      const assigned = changes.results.find((result) => result.data!.taskChanged.kind === 'ASSIGNED')!.data!
        .taskChanged;
      expect(assigned).toMatchObject({ taskId: task.id, changes: { assigneeId: { from: null, to: member.user.id } } });
      await waitFor(() => notifications.results.length > 0, 'the notification on B');
      expect(notifications.results[0].data!.notificationAdded.message).toBe('You were assigned the task "Made on A"');
      // B's feed keeps the stream's order: the sentinel, published last, arrives alone.
      await waitFor(() => theirs.results.length > 0, 'the sentinel');
      expect(theirs.results.map((result) => result.data!.taskChanged.taskId)).toEqual([sentinel.id]);
      expect(theirNotifications.results).toEqual([]);
    });

    it('closes B’s sockets with 1001 when B stops, while A keeps serving', async () => {
      const [a, b] = instances;
      const onA = liveClient(a.baseUrl, owner.accessToken);
      const onB = liveClient(b.baseUrl, owner.accessToken);
      clients.push(onA, onB);
      const fromA = onA.subscribe(TASK_CHANGED, { projectId });
      onB.subscribe(TASK_CHANGED, { projectId });
      await waitFor(() => a.app.live.size === 1 && b.app.live.size >= 1, 'a subscription on each instance');
      await b.app.stop();
      expect(onB.closes).toEqual([{ code: 1001, reason: 'Going away' }]);
      const task = await createTask(a, owner, projectId, { title: 'After B stopped' });
      await waitFor(() => fromA.results.some((result) => result.data!.taskChanged.taskId === task.id), 'A to deliver');
    });
  },
);

describe('a slow consumer, and stopping', () => {
  let api: TestApp;
  let owner: Session;
  let projectId: string;
  let stopped = false;

  beforeAll(async () => {
    api = await startTestApp({
      LIVE_MAX_QUEUED_EVENTS: '20',
      LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION: '40',
    });
    owner = await signUp(api);
    projectId = (await createProject(api, owner, (await createOrganization(api, owner)).id)).id;
  });

  afterAll(async () => {
    if (!stopped) await api?.stop();
  });

  it('drops a reader that stops reading with 4002, its queue bounded, while a healthy one gets every event', async () => {
    const { metrics } = api.app.live;
    const slow = liveClient(api.baseUrl, owner.accessToken);
    const healthy = liveClient(api.baseUrl, owner.accessToken);
    for (let index = 0; index < 40; index += 1) slow.subscribe(TASK_CHANGED, { projectId });
    const received = healthy.subscribe(TASK_CHANGED, { projectId });
    await waitFor(() => api.app.live.size === 41, '41 subscriptions');
    // The slow reader stops reading its socket: what the server sends piles up in the kernel, then in the server.
    (slow.sockets[0] as unknown as { _socket: { pause(): void } })._socket.pause();

    const description = 'x'.repeat(9000);
    let created = 0;
    let mostQueued = 0;
    while (metrics.slowConsumersDropped === 0 && created < 300) {
      await createTask(api, owner, projectId, { title: `Load ${created}`, description });
      created += 1;
      mostQueued = Math.max(mostQueued, metrics.queued);
    }
    expect(metrics.slowConsumersDropped).toBe(1);
    // Past the drop, more events cost the server nothing for that reader: nothing more is queued for it.
    const heapBefore = process.memoryUsage().heapUsed;
    for (let index = 0; index < 20; index += 1) {
      await createTask(api, owner, projectId, { title: `After ${index}`, description });
      created += 1;
      mostQueued = Math.max(mostQueued, metrics.queued);
    }
    await waitFor(() => received.results.length === created, 'the healthy reader to get every event');
    // The slow connection's queue never passed its bound (the healthy one keeps up, so it adds at most a few).
    expect(mostQueued).toBeLessThanOrEqual(20 + 5);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);

    (slow.sockets[0] as unknown as { _socket: { resume(): void } })._socket.resume();
    await waitFor(() => slow.closes.length > 0, 'the slow reader to see its socket closed');
    expect(slow.closes[0]).toEqual({ code: 4002, reason: 'Slow consumer' });
    await waitFor(() => api.app.live.size === 1, 'the slow reader’s subscriptions to end');
    await Promise.all([slow.dispose(), healthy.dispose()]);
  });

  it('closes every socket with 1001 on stop, after what was queued went out', async () => {
    const client = liveClient(api.baseUrl, owner.accessToken);
    const received = client.subscribe(TASK_CHANGED, { projectId });
    await waitFor(() => api.app.live.size === 1, 'the subscription');
    const task = await createTask(api, owner, projectId, { title: 'Last before stop' });
    await waitFor(() => received.results.some((result) => result.data!.taskChanged.taskId === task.id), 'the event');
    stopped = true;
    await api.stop();
    expect(client.closes).toEqual([{ code: 1001, reason: 'Going away' }]);
    expect(api.app.live.metrics.connections).toBe(0);
    await client.dispose();
  });
});
