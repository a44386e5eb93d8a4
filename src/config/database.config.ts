import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/** Where the data lives: PostgreSQL, or embedded PGlite when DATABASE_URL is unset. */
export class DatabaseConfig {
  /** Absent: the embedded PGlite database under DATABASE_EMBEDDED_PATH. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: '$property must be a postgres:// URL' })
  DATABASE_URL: string | undefined = undefined;

  /** A directory for the embedded database's files, or memory:// for a throwaway one. */
  @IsString()
  DATABASE_EMBEDDED_PATH = './.data/pglite';

  /** Connections in the PostgreSQL pool (embedded mode always uses one). */
  @IsInt()
  @Min(1)
  @Max(1000)
  DATABASE_POOL_MAX = 10;

  /**
   * Run the request path's hot statements as named prepared statements, parsed and planned once per connection.
   * Behind PgBouncer in transaction mode this needs PgBouncer 1.21+ with max_prepared_statements > 0; else false.
   */
  @IsBoolean()
  DATABASE_PREPARED_STATEMENTS = true;

  /**
   * PostgreSQL only: connections of their own, shared by all requests and pipelined, for the hot reads outside a
   * transaction (by-id loads, the task read, pages without their count); 0 runs them through the pool. Each instance opens this many beside
   * DATABASE_POOL_MAX.
   */
  @IsInt()
  @Min(0)
  @Max(64)
  DATABASE_PIPELINED_CONNECTIONS = 2;

  /** Apply pending migrations at start (else `npm run db:migrate`). */
  @IsBoolean()
  DATABASE_MIGRATE_ON_START = true;
}
