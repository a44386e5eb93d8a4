import { isDatabaseUnavailable } from './errors';

/**
 * Group commit for one hot write: the same write asked for by many requests
 * in one pass of the event loop runs as one statement (one round trip, one
 * transaction, one WAL flush) instead of one each. `write` is a statement
 * over a list of inputs (`unnest` of array parameters) that answers each
 * input's row, or undefined where its checks found nothing to write.
 *
 * A statement is one transaction, so a batch is written whole or not at all.
 * When one fails, the inputs are run again one by one, so a bad input fails
 * alone with its own error and the others are written once each; when the
 * database is unreachable, every input of the batch gets that error (a
 * "retry later", as it would have alone).
 *
 * Only for a write that is its own transaction (outside `uow.transaction`):
 * inside one, the caller runs `write` with its one input.
 */
export class WriteBatches<TInput, TRow> {
  private pending: { input: TInput; resolve: (row: TRow | undefined) => void; reject: (error: unknown) => void }[] = [];
  /** Statements run and inputs written through them since the start: what the tests and the bench read. */
  statements = 0;
  inputs = 0;

  constructor(
    private readonly write: (inputs: readonly TInput[]) => Promise<(TRow | undefined)[]>,
    private readonly maxSize = MAX_BATCH,
  ) {}

  /** The input's row, written with the other inputs of this pass of the event loop; undefined when it wrote nothing. */
  run(input: TInput): Promise<TRow | undefined> {
    return new Promise((resolve, reject) => {
      // Sent at the check phase, after the poll phase ran every socket's callback: every request that came in this
      // pass of the event loop is in the batch.
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ input, resolve, reject });
    });
  }

  private flush(): void {
    const all = this.pending;
    this.pending = [];
    for (let start = 0; start < all.length; start += this.maxSize)
      void this.send(all.slice(start, start + this.maxSize));
  }

  private async send(batch: typeof this.pending): Promise<void> {
    const inputs = batch.map(({ input }) => input);
    try {
      const rows = await this.runStatement(inputs);
      batch.forEach(({ resolve }, index) => resolve(rows[index]));
    } catch (error) {
      if (batch.length === 1 || isDatabaseUnavailable(error)) {
        for (const { reject } of batch) reject(error);
        return;
      }
      // One input's failure failed the whole statement (nothing of it was written): each alone now.
      await Promise.all(
        batch.map(({ input, resolve, reject }) => this.runStatement([input]).then((rows) => resolve(rows[0]), reject)),
      );
    }
  }

  private async runStatement(inputs: readonly TInput[]): Promise<(TRow | undefined)[]> {
    this.statements += 1;
    this.inputs += inputs.length;
    return this.write(inputs);
  }
}

/** The most inputs in one statement: a burst larger than this leaves in several, each on its own connection. */
const MAX_BATCH = 100;
