import { IsIn, IsInt, IsOptional, Min } from 'class-validator';

export type LogFormat = 'json' | 'pretty';

/** What the winston logger writes, and how. */
export class LoggingConfig {
  /** A winston level; debug adds every SQL statement. */
  @IsIn(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'])
  LOG_LEVEL = 'info';

  /** Default: pretty in development, json elsewhere. */
  @IsOptional()
  @IsIn(['json', 'pretty'])
  LOG_FORMAT: LogFormat | undefined = undefined;

  /** SQL slower than this (ms) is logged at warn; 0 turns the slow-query log off. */
  @IsInt()
  @Min(0)
  LOG_SLOW_QUERY_MS = 200;
}
