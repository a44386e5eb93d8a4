import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import type { Logger } from '../logging/logger';
import type { EmbeddedPostgres } from './embedded';
import { usePreparedStatements, type PgClientLike } from './prepared-statements';
import { QueryLogger } from './query-logger';

export interface DatabaseOptions {
  /** postgres://...; absent: embedded PGlite at `embeddedPath`. */
  url?: string;
  embeddedPath: string;
  poolMax: number;
  /** Run the statements marked `prepared()` as named prepared statements (DATABASE_PREPARED_STATEMENTS). */
  preparedStatements?: boolean;
  slowQueryMs: number;
  logger: Logger;
  entities: MixedList<Function | string | EntitySchema>;
  migrations: MixedList<Function | string>;
}

/**
 * pg-pool takes its error listener off a client while the client is checked
 * out, and TypeORM adds none: a server ending the session then (a restart,
 * pg_terminate_backend) would emit an unhandled 'error' and crash the
 * process. Every client of the pool gets a listener of ours; the query in
 * flight still fails, and the broken client is dropped when released.
 */
class GuardedDataSource extends DataSource {
  constructor(
    options: DataSourceOptions,
    private readonly onClientError: (error: Error) => void,
    private readonly preparedStatements = false,
  ) {
    super(options);
  }

  override async initialize(): Promise<this> {
    await super.initialize();
    // `_clients` is pg-pool's list of the clients it made before this point (the ones TypeORM used to start).
    const pool = (this.driver as unknown as { master?: EventEmitter & { _clients?: EventEmitter[] } }).master;
    const guard = (client: EventEmitter) => {
      if (!client.listeners('error').includes(this.onClientError)) client.on('error', this.onClientError);
      if (this.preparedStatements) usePreparedStatements(client as EventEmitter & PgClientLike);
    };
    pool?.on('connect', guard);
    for (const client of pool?._clients ?? []) guard(client);
    return this;
  }
}

/** A DataSource that also stops the embedded database it talks to. */
class EmbeddedDataSource extends GuardedDataSource {
  constructor(
    options: DataSourceOptions,
    onClientError: (error: Error) => void,
    private readonly embedded: EmbeddedPostgres,
    preparedStatements: boolean,
  ) {
    super(options, onClientError, preparedStatements);
  }

  override async destroy(): Promise<void> {
    try {
      if (this.isInitialized) await super.destroy();
    } finally {
      await this.embedded.stop();
    }
  }

  saveMigratedTemplate(): Promise<void> {
    return this.embedded.saveMigratedTemplate();
  }
}

/**
 * After a start applied every migration to a new in-memory embedded database: keeps that state, so the next one
 * (each test app, say) starts migrated. Nothing for PostgreSQL or a database on disk.
 */
export async function keepMigratedState(dataSource: DataSource): Promise<void> {
  if (dataSource instanceof EmbeddedDataSource) await dataSource.saveMigratedTemplate();
}

/** Names a set of migrations by their code, so a migration edited in place is a new set. */
export function migrationsKey(migrations: DatabaseOptions['migrations']): string {
  const list: unknown[] = Array.isArray(migrations) ? migrations : Object.values(migrations);
  const text = list
    .map((migration) =>
      typeof migration === 'function' ? `${migration.name}\n${migration.toString()}` : String(migration),
    )
    .join('\n\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 24);
}

/**
 * The one factory for the app, the TypeORM CLI and the scripts. Both modes use
 * TypeORM's postgres driver; embedded mode connects to in-process PGlite with a
 * pool of ONE connection, so each transaction owns the session until it ends.
 * The returned DataSource is not yet initialized.
 */
export async function createDataSource(options: DatabaseOptions): Promise<DataSource> {
  const common = {
    type: 'postgres' as const,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
    logger: new QueryLogger(options.logger),
    logging: options.logger.isDebugEnabled()
      ? ('all' as const)
      : (['error', 'warn', 'migration'] as ('error' | 'warn' | 'migration')[]),
    maxQueryExecutionTime: options.slowQueryMs,
    poolErrorHandler: (error: Error) => options.logger.warn('database pool error', { error: error.message }),
  };
  const onClientError = (error: Error) => options.logger.warn('database connection lost', { error: error.message });

  if (options.url) {
    return new GuardedDataSource(
      {
        ...common,
        url: options.url,
        poolSize: options.poolMax,
        extra: { connectionTimeoutMillis: 5000, idleTimeoutMillis: 30000 },
      },
      onClientError,
      options.preparedStatements,
    );
  }

  // PGlite (its 0.5 MB bundle kept as source in the heap) is loaded only for the embedded database, not with a URL.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  const { startEmbeddedPostgres } = require('./embedded') as typeof import('./embedded');
  const embedded = await startEmbeddedPostgres(options.embeddedPath, {
    migratedTemplateKey: migrationsKey(options.migrations),
  });
  return new EmbeddedDataSource(
    {
      ...common,
      host: embedded.socketDirectory,
      port: embedded.port,
      username: 'postgres',
      database: 'postgres',
      poolSize: 1,
      extra: { connectionTimeoutMillis: 5000 },
    },
    onClientError,
    embedded,
    options.preparedStatements ?? false,
  );
}
