import type { DataSource, Migration } from 'typeorm';

/** An arbitrary constant: the key of the session-level advisory lock all instances take to migrate. */
const MIGRATION_LOCK_KEY = 7_202_611;

/**
 * Applies pending migrations, each in its own transaction. On PostgreSQL the
 * run holds an advisory lock on a separate connection, so several instances
 * starting at once migrate one after another instead of racing. (Embedded
 * PGlite has one connection and one process: no lock needed, and holding one
 * would starve the migration of its connection.)
 */
export async function runMigrations(dataSource: DataSource, exclusive: boolean): Promise<Migration[]> {
  if (!exclusive) return dataSource.runMigrations({ transaction: 'each' });
  const lock = dataSource.createQueryRunner();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lock.release();
  }
}
