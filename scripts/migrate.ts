import { runMigrations } from '../src/platform/database/migrate';
import { loadScriptConfig, scriptDataSource, scriptLogger } from './cli-support';

/** `npm run db:migrate` applies pending migrations; `-- --revert` undoes the last one. */
async function main(): Promise<void> {
  const config = loadScriptConfig();
  const logger = scriptLogger(config);
  const dataSource = await scriptDataSource(config, logger);
  await dataSource.initialize();
  try {
    if (process.argv.includes('--revert')) {
      await dataSource.undoLastMigration({ transaction: 'each' });
      logger.info('reverted the last migration');
    } else {
      const applied = await runMigrations(dataSource);
      logger.info(applied.length > 0 ? `applied ${applied.length} migration(s)` : 'no pending migrations', {
        migrations: applied.map((migration) => migration.name),
      });
    }
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`migration failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
