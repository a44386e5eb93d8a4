import { AsyncLocalStorage } from 'node:async_hooks';
import { createLogger as createWinstonLogger, format, transports, type Logger } from 'winston';
import type Transport from 'winston-transport';
import { isSecretKey, REDACTED, redact } from './redact';

export type { Logger };

export interface LoggerOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Extra transports (tests capture output with one). */
  transports?: Transport[];
}

const WINSTON_KEYS = new Set(['level', 'message']);

/** Redacts every field of the log entry except winston's own; runs before any transport sees it. */
const redactSecrets = format((info) => {
  const record = info as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (WINSTON_KEYS.has(key)) continue;
    record[key] = isSecretKey(key) ? REDACTED : redact(record[key]);
  }
  return info;
});

const pretty = format.printf((info) => {
  const { level, message, timestamp, requestId, ...rest } = info as Record<string, unknown>;
  const id = typeof requestId === 'string' && requestId ? ` [${requestId.slice(0, 8)}]` : '';
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
  return `${String(timestamp)} ${String(level)}${id} ${String(message)}${extra}`;
});

export function createLogger(options: LoggerOptions): Logger {
  const output =
    options.format === 'json'
      ? format.combine(format.timestamp(), format.json())
      : format.combine(format.timestamp({ format: 'HH:mm:ss.SSS' }), format.colorize(), pretty);
  return createWinstonLogger({
    level: options.level,
    format: format.combine(format.errors({ stack: true }), redactSecrets(), output),
    transports: options.transports ?? [new transports.Console({ stderrLevels: [] })],
  });
}

/** A request's id and its logger (which gains userId and operationName as they become known). */
export interface RequestScope {
  requestId: string;
  logger: Logger;
}

/**
 * Carries the scope down the async call chain to code with no context
 * argument (the SQL logger). Entered only at LOG_LEVEL=debug: its promise
 * hooks cost ~30% of throughput on large responses (see platform/http/server.ts).
 */
export const requestScope = new AsyncLocalStorage<RequestScope>();
