import type { Logger as TypeOrmLogger } from 'typeorm';
import { requestScope, type Logger } from '../logging/logger';
import { isDatabaseUnavailable } from './errors';

/**
 * Sends TypeORM's output through winston: statements at debug, slow ones at
 * warn, failures at error (at warn when the database could not be reached:
 * an outage is not a bug). Parameters are never logged (they hold password
 * hashes and token hashes); their count is. Inside a request, lines carry its id.
 */
export class QueryLogger implements TypeOrmLogger {
  constructor(private readonly baseLogger: Logger) {}

  logQuery(query: string, parameters?: unknown[] | object): void {
    const logger = this.logger();
    if (logger.isDebugEnabled()) logger.debug('sql', { sql: query, parameterCount: countOf(parameters) });
  }

  logQueryError(error: string | Error, query: string, parameters?: unknown[] | object): void {
    const message = typeof error === 'string' ? error : error.message;
    const level = isDatabaseUnavailable(error) ? 'warn' : 'error';
    this.logger().log(level, 'sql failed', { sql: query, parameterCount: countOf(parameters), error: message });
  }

  logQuerySlow(time: number, query: string, parameters?: unknown[] | object): void {
    this.logger().warn('slow sql', { durationMs: time, sql: query, parameterCount: countOf(parameters) });
  }

  logSchemaBuild(message: string): void {
    this.logger().debug(message);
  }

  logMigration(message: string): void {
    this.logger().info(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    this.logger().log(level === 'log' ? 'debug' : level, String(message));
  }

  private logger(): Logger {
    return requestScope.getStore()?.logger ?? this.baseLogger;
  }
}

function countOf(parameters?: unknown[] | object): number {
  if (!parameters) return 0;
  return Array.isArray(parameters) ? parameters.length : Object.keys(parameters).length;
}
