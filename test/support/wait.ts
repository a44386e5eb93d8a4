/**
 * Polls `probe` until it returns something other than undefined (or false); fails after `timeoutMs` saying what it waited for.
 * The default is generous: it only tells a condition that never comes from one that a busy machine is slow to reach.
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what = 'a condition',
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until every consumer of the app has handled every event in its outbox (on either transport). */
export async function eventsHandled(
  api: { app: { events: { backlog(): Promise<number> } } },
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(async () => (await api.app.events.backlog()) === 0, 'every event to be handled', timeoutMs);
}
