import { randomUUID } from 'node:crypto';
import { ANONYMOUS } from '../../src/platform/graphql/context';
import { publishTestEvent, TestConsumer } from '../support/events';
import { createOrganization, ok } from '../support/organizations';
import { ADD_COMMENT, createProject, createTask } from '../support/projects';
import { signUp, startTestApp, uniqueEmail, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

/**
 * A commit wakes the event relay, but the events of an HTTP request wake it only once the request's answer has
 * gone: a handler (an account mail, say) then never competes with the answer for the process's time, and whether
 * an address has an account cannot show in how long requestPasswordReset took to answer.
 */
describe('the relay wake-up of a request’s events waits for its answer', () => {
  const probe = new TestConsumer('probe', [
    'test.deferred',
    'test.at-once',
    'user.password_reset_requested',
    'comment.added',
  ]);
  let api: TestApp;

  beforeAll(async () => {
    // A poll interval far beyond the test's patience: only a wake-up gets an event handled.
    api = await startTestApp({ EVENTS_POLL_INTERVAL_MS: '600000' }, undefined, { consumers: [probe.consumer] });
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('hands the wake-up to the request, which runs it when the answer has gone', async () => {
    const waiting: (() => void)[] = [];
    const origin = {
      requestId: `req-${randomUUID()}`,
      viewer: ANONYMOUS,
      afterResponse: (task: () => void) => waiting.push(task),
    };
    const event = await publishTestEvent(api, 'test.deferred', {}, origin);
    // Committed: the wake-up waits with the request, not in the relay.
    expect(waiting).toHaveLength(1);
    waiting[0]();
    await waitFor(() => probe.timesHandled(event.id) === 1, 'the deferred event to be handled');
  });

  it('wakes the relay at commit for events raised outside a request', async () => {
    const event = await publishTestEvent(api, 'test.at-once');
    await waitFor(() => probe.timesHandled(event.id) === 1, 'the event to be handled');
  });

  it('wakes the relay once a GraphQL mutation has answered', async () => {
    const email = uniqueEmail('wake');
    const response = await api.gql(`mutation($input: AccountEmailInput!) { requestPasswordReset(input: $input) }`, {
      input: { email },
    });
    expect(response.body).toEqual(expect.objectContaining({ data: { requestPasswordReset: true } }));
    await waitFor(
      () => probe.handled.some((event) => (event.data as { email?: string }).email === email),
      'the request’s event to be handled',
    );
  });

  it('wakes the relay for an event its own statement wrote (addComment: no transaction, no commit to hear)', async () => {
    const owner = await signUp(api);
    const organization = await createOrganization(api, owner, 'Woken');
    const project = await createProject(api, owner, organization.id);
    const task = await createTask(api, owner, project.id);
    const added = await ok(
      api.gql(ADD_COMMENT, { input: { taskId: task.id, body: 'wake up' } }, { token: owner.accessToken }),
    );
    const commentId = (added.addComment as { id: string }).id;
    await waitFor(
      () => probe.handled.some((event) => event.type === 'comment.added' && event.subject.id === commentId),
      'the comment’s event to be handled',
    );
  });
});
