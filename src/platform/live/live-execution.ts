import { createSourceEventStream, execute, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { Loaders, type RequestContext } from '../graphql/context';

/**
 * graphql-js's subscribe, but each event is executed with a context of its
 * own (new per-request loaders): a subscription lives for hours, and what
 * one event loaded must not be served, stale, to the next. A source that
 * ends with an error (a membership removed, say) yields that error as its
 * last result, then completes.
 */
export async function subscribePerEvent(
  args: ExecutionArgs,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  const events = source[Symbol.asyncIterator]();
  const base = args.contextValue as RequestContext;
  let finished = false;
  const done = (): IteratorResult<ExecutionResult> => ({ value: undefined, done: true });
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (finished) return done();
      let step: IteratorResult<unknown>;
      try {
        step = await events.next();
      } catch (error) {
        finished = true;
        const cause = error instanceof Error ? error : new Error(String(error));
        return { value: { errors: [new GraphQLError(cause.message, { originalError: cause })] }, done: false };
      }
      if (step.done || finished) {
        finished = true;
        return done();
      }
      const contextValue: RequestContext = { ...base, loaders: new Loaders(base.viewer) };
      const value = await execute({ ...args, rootValue: step.value, contextValue });
      return { value, done: false };
    },
    // Not an async generator: its return() would wait for a pending next(), which waits for an event that may never come.
    async return() {
      finished = true;
      await events.return?.();
      return done();
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
  return iterator;
}
