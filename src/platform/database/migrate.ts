import { MigrationExecutor, type DataSource, type Migration } from 'typeorm';

/** An arbitrary constant: the key of the session-level advisory lock every instance takes to migrate. */
const MIGRATION_LOCK_KEY = 7_202_611;

/**
 * Applies pending migrations, each in its own transaction, holding an advisory
 * lock on the same connection: several instances starting at once migrate one
 * after another instead of racing, and a pool of one connection suffices.
 */
export async function runMigrations(dataSource: DataSource): Promise<Migration[]> {
  const queryRunner = dataSource.createQueryRunner();
  try {
    await queryRunner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const executor = new MigrationExecutor(dataSource, queryRunner);
      executor.transaction = 'each';
      return await executor.executePendingMigrations();
    } finally {
      await queryRunner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await queryRunner.release();
  }
}
