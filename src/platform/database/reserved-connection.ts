import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/** A connection is reserved only from a pool of at least this many (the relay's and the live feed's leave two for requests). */
const SMALLEST_POOL = 4;

/**
 * One pool connection kept by a latency-sensitive loop (the Redis relay,
 * the live feed's reads) for its few, short statements, so they never queue
 * behind request traffic waiting for the pool: under a write burst that
 * queue holds dozens of requests, and an event waited in it twice (relay,
 * then live delivery) before reaching a subscriber. Taken from the pool on
 * first use and held; given back after a statement fails, so a connection
 * that died is replaced at the next use. With a pool too small to spare one
 * (under SMALLEST_POOL; the embedded database has one connection) it takes
 * none, and each use goes through the pool.
 */
export class ReservedConnection {
  private runner: QueryRunner | undefined;
  private reserved: boolean;

  constructor(private readonly dataSource: DataSource) {
    this.reserved = ((dataSource.options as { poolSize?: number }).poolSize ?? 10) >= SMALLEST_POOL;
  }

  /** Whether this holds a connection of its own (false: its work goes through the pool). */
  get isReserved(): boolean {
    return this.reserved;
  }

  /** Runs `work` with autocommit statements on the reserved connection. */
  async run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.reserved) return work(this.dataSource.manager);
    const runner = (this.runner ??= this.dataSource.createQueryRunner());
    try {
      return await work(runner.manager);
    } catch (error) {
      await this.giveBack(runner);
      throw error;
    }
  }

  /** Runs `work` in one transaction on the reserved connection: committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.reserved) return this.dataSource.transaction(work);
    const runner = (this.runner ??= this.dataSource.createQueryRunner());
    try {
      await runner.startTransaction();
      try {
        const result = await work(runner.manager);
        await runner.commitTransaction();
        return result;
      } catch (error) {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        throw error;
      }
    } catch (error) {
      await this.giveBack(runner);
      throw error;
    }
  }

  /** Gives the connection back to the pool for good (before the data source is destroyed); later uses go through the pool. */
  async release(): Promise<void> {
    this.reserved = false;
    if (this.runner) await this.giveBack(this.runner);
  }

  private async giveBack(runner: QueryRunner): Promise<void> {
    if (this.runner === runner) this.runner = undefined;
    await runner.release().catch(() => undefined);
  }
}
