import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Client, ClientConfig } from 'pg';
import {
  DataSource,
  QueryFailedError,
  type DataSourceOptions,
  type EntitySchema,
  type MixedList,
  type QueryRunner,
} from 'typeorm';
import type { Logger } from '../logging/logger';
import type { EmbeddedPostgres } from './embedded';
import { PipelinedReads, pipelinedClientConfig } from './pipelined-reads';
import { isPipelinedRead, usePreparedStatements, type PgClientLike } from './prepared-statements';
import { QueryLogger } from './query-logger';
import { useFastTimestamps } from './timestamps';

export interface DatabaseOptions {
  /** postgres://...; absent: embedded PGlite at `embeddedPath`. */
  url?: string;
  embeddedPath: string;
  poolMax: number;
  /** Run the statements marked `prepared()` as named prepared statements (DATABASE_PREPARED_STATEMENTS). */
  preparedStatements?: boolean;
  /** Connections for the marked reads outside transactions, pipelined (DATABASE_PIPELINED_CONNECTIONS; PostgreSQL only). */
  pipelinedConnections?: number;
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
  private pipelined: PipelinedReads | undefined;

  constructor(
    options: DataSourceOptions,
    private readonly onClientError: (error: Error) => void,
    private readonly preparedStatements = false,
    private readonly pipelinedConnections = 0,
  ) {
    super(options);
  }

  override async initialize(): Promise<this> {
    await super.initialize();
    // `_clients` is pg-pool's list of the clients it made before this point (the ones TypeORM used to start).
    const driver = this.driver as unknown as {
      master?: EventEmitter & { _clients?: EventEmitter[]; options: ClientConfig };
      postgres: { Client: new (config: ClientConfig) => Client };
    };
    const pool = driver.master;
    const guard = (client: EventEmitter) => {
      if (!client.listeners('error').includes(this.onClientError)) client.on('error', this.onClientError);
      if (this.preparedStatements) usePreparedStatements(client as EventEmitter & PgClientLike);
    };
    pool?.on('connect', guard);
    for (const client of pool?._clients ?? []) guard(client);
    if (pool && this.pipelinedConnections > 0) {
      // The driver's own pg (the one tracing instruments), configured as the pool's clients are.
      this.pipelined = new PipelinedReads({
        size: this.pipelinedConnections,
        client: () => new driver.postgres.Client(pipelinedClientConfig(pool.options)),
        prepare: (client) => {
          if (this.preparedStatements) usePreparedStatements(client as unknown as PgClientLike);
        },
        onError: this.onClientError,
      });
      await this.pipelined.start();
    }
    return this;
  }

  /** The marked reads (`pipelinedRead`) outside a transaction go over the pipelined connections; the rest as TypeORM runs it. */
  override async query<T = unknown>(query: string, parameters?: unknown[], queryRunner?: QueryRunner): Promise<T> {
    const running =
      queryRunner === undefined && isPipelinedRead(query) ? this.pipelined?.query(query, parameters ?? []) : undefined;
    if (!running) return super.query(query, parameters, queryRunner);
    // What TypeORM's query runner does around a statement: its lines (debug, slow, failed), its subscribers' events
    // (the SQL metrics) and its error type.
    this.logger.logQuery(query, parameters);
    const before = this.tellSubscribers('beforeQuery', { query, parameters });
    if (before) {
      // The statement is on its way: should it fail while a subscriber is awaited, it is handled below, not unhandled.
      running.catch(() => undefined);
      await before;
    }
    const started = Date.now();
    try {
      const { rows } = await running;
      const executionTime = Date.now() - started;
      const slowMs = this.options.maxQueryExecutionTime;
      if (slowMs && executionTime > slowMs) this.logger.logQuerySlow(executionTime, query, parameters);
      const after = this.tellSubscribers('afterQuery', {
        query,
        parameters,
        success: true,
        executionTime,
        rawResults: rows,
      });
      if (after) await after;
      return rows as T;
    } catch (error) {
      this.logger.logQueryError(error as Error, query, parameters);
      // Unlike TypeORM, with its execution time: the SQL metrics count failures by it.
      const executionTime = Date.now() - started;
      const after = this.tellSubscribers('afterQuery', { query, parameters, success: false, executionTime, error });
      if (after) await after;
      throw new QueryFailedError(query, parameters, error as Error);
    }
  }

  /** As TypeORM's Broadcaster tells them of a statement (there is no query runner here). */
  private tellSubscribers(hook: 'beforeQuery' | 'afterQuery', event: object): Promise<unknown> | undefined {
    if (this.subscribers.length === 0) return undefined;
    const full = { connection: this, queryRunner: undefined, manager: this.manager, ...event };
    const waits: unknown[] = [];
    for (const subscriber of this.subscribers) {
      const listener = subscriber[hook] as ((event: object) => unknown) | undefined;
      const result = listener?.call(subscriber, full);
      if (result instanceof Promise) waits.push(result);
    }
    return waits.length > 0 ? Promise.all(waits) : undefined;
  }

  /** The pipelined connections open now and the statements sent over them (zeros when off). */
  get pipelinedReads(): { open: number; statements: number } {
    return { open: this.pipelined?.size ?? 0, statements: this.pipelined?.statements ?? 0 };
  }

  override async destroy(): Promise<void> {
    await this.pipelined?.close();
    await super.destroy();
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
  useFastTimestamps();
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
      options.pipelinedConnections,
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
