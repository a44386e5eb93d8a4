// @database-independent: the batching rules alone, over a statement that is a function; the comment write through
// them, on a real database, is test/api/comment-write-path.test.ts.
import { WriteBatches } from '../../src/platform/database/write-batches';

/** A statement that doubles its inputs, refusing any negative one; it records the batches it was given. */
function doubling(failWith: (inputs: readonly number[]) => Error | undefined = () => undefined) {
  const calls: number[][] = [];
  const write = async (inputs: readonly number[]) => {
    calls.push([...inputs]);
    const error = failWith(inputs);
    if (error) throw error;
    return inputs.map((input) => (input === 0 ? undefined : input * 2));
  };
  return { calls, write };
}

it('writes what one pass of the event loop asked for in one statement, and what the next asks in another', async () => {
  const statement = doubling();
  const batches = new WriteBatches(statement.write);
  const first = await Promise.all([1, 2, 0, 3].map((input) => batches.run(input)));
  const second = await Promise.all([4, 5].map((input) => batches.run(input)));
  expect(first).toEqual([2, 4, undefined, 6]);
  expect(second).toEqual([8, 10]);
  expect(statement.calls).toEqual([
    [1, 2, 0, 3],
    [4, 5],
  ]);
  expect({ statements: batches.statements, inputs: batches.inputs }).toEqual({ statements: 2, inputs: 6 });
});

it('splits a burst larger than its limit into several statements', async () => {
  const statement = doubling();
  const batches = new WriteBatches(statement.write, 3);
  expect(await Promise.all([1, 2, 3, 4, 5, 6, 7].map((input) => batches.run(input)))).toEqual([2, 4, 6, 8, 10, 12, 14]);
  expect(statement.calls).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
});

it('runs the inputs of a failed statement again one by one, so only the bad one fails', async () => {
  const statement = doubling((inputs) => (inputs.some((input) => input < 0) ? new Error('negative input') : undefined));
  const batches = new WriteBatches(statement.write);
  const results = await Promise.allSettled([1, -1, 2].map((input) => batches.run(input)));
  expect(results).toEqual([
    { status: 'fulfilled', value: 2 },
    { status: 'rejected', reason: new Error('negative input') },
    { status: 'fulfilled', value: 4 },
  ]);
  expect(statement.calls).toEqual([[1, -1, 2], [1], [-1], [2]]);
});

it('gives every input of the batch the error, without trying again, when the database cannot be reached', async () => {
  const lost = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const statement = doubling(() => lost);
  const batches = new WriteBatches(statement.write);
  const results = await Promise.allSettled([1, 2, 3].map((input) => batches.run(input)));
  expect(results).toEqual([1, 2, 3].map(() => ({ status: 'rejected', reason: lost })));
  expect(statement.calls).toEqual([[1, 2, 3]]);
});
