import { IsIn, IsInt, IsOptional, Matches, Min } from 'class-validator';
import type { DatabaseConfig } from './database.config';

export type NodeEnv = 'development' | 'production' | 'test';

/** What an instance runs: GraphQL (api), the consumers and background loops (worker), or both (all). */
export type Role = 'api' | 'worker' | 'all';

/** How the process runs and stops. */
export class ProcessConfig {
  /** development, production (Sandbox, introspection and detailed errors off; a strong JWT_SECRET required) or test. */
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: NodeEnv = 'development';

  /** api: GraphQL and event writes, no consumers or background loops; worker: consumers, loops and housekeeping, only /healthz, /readyz and /metrics over HTTP; all: both. */
  @IsIn(['api', 'worker', 'all'])
  ROLE: Role = 'all';

  /** With ROLE=worker: the modules whose consumers and workers this instance runs (comma-separated names); unset, every module's. */
  @IsOptional()
  @Matches(/^\s*[a-z][a-z0-9-]*(\s*,\s*[a-z][a-z0-9-]*)*\s*$/, {
    message: 'WORKER_MODULES must be comma-separated module names (e.g. webhooks,audit)',
  })
  WORKER_MODULES: string | undefined = undefined;

  /** Milliseconds requests in flight may take to finish on SIGTERM/SIGINT before connections close. */
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS = 10000;

  /** Milliseconds /readyz waits for each dependency before calling it not ready. */
  @IsInt()
  @Min(1)
  READINESS_TIMEOUT_MS = 2000;
}

/**
 * A split role needs a database several processes share: embedded PGlite is
 * one process, which serves and consumes (ROLE=all). WORKER_MODULES narrows
 * a worker, so it needs ROLE=worker, and the Redis Streams transport, where
 * each module's consumer is a consumer group of its own; the inline relay is
 * one lease holder running every consumer. The names are checked against the
 * registered modules at start (src/platform/roles.ts).
 */
export function checkRole(
  config: ProcessConfig & DatabaseConfig & { eventsTransport: string },
  problems: string[],
): void {
  if (config.ROLE !== 'all' && !config.DATABASE_URL)
    problems.push(
      `ROLE=${config.ROLE} needs DATABASE_URL (PostgreSQL): embedded PGlite is one process per data directory, which serves and consumes together (ROLE=all)`,
    );
  if (config.WORKER_MODULES === undefined) return;
  if (config.ROLE !== 'worker') problems.push(`WORKER_MODULES applies only to ROLE=worker (ROLE is ${config.ROLE})`);
  else if (config.eventsTransport !== 'redis-streams')
    problems.push(
      'WORKER_MODULES needs the redis-streams transport (REDIS_URL): the inline relay is one lease holder that runs every module’s consumers',
    );
}
