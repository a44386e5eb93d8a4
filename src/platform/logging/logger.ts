import { AsyncLocalStorage } from 'node:async_hooks';
import { createLogger as createWinstonLogger, format, type Logger } from 'winston';
import type Transport from 'winston-transport';
import { activeTraceIds } from '../telemetry/spans';
import { BatchedStdoutTransport } from './batched-stdout';
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

/** Where winston's finished formats leave the line (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');
const slowJson = format.json();

/**
 * logform's `timestamp()` then `json()` in one step, with JSON.stringify: `json()` builds a new safe-stable-stringify
 * function for every line and stringifies through a replacer (about 2% of a one-statement query's CPU with the
 * timestamp). The fields are already copies without cycles (redactSecrets), so JSON.stringify gives the same text;
 * what it cannot write (a BigInt) goes through `json()` as before.
 */
const jsonLine = format((info) => {
  const record = info as Record<string | symbol, unknown>;
  record.timestamp ??= new Date().toISOString();
  try {
    record[MESSAGE] = JSON.stringify(record);
    return info;
  } catch {
    return slowJson.transform(info, slowJson.options);
  }
});

export function createLogger(options: LoggerOptions): Logger {
  const output =
    options.format === 'json'
      ? jsonLine()
      : format.combine(format.timestamp({ format: 'HH:mm:ss.SSS' }), format.colorize(), pretty);
  const logger = createWinstonLogger({
    level: options.level,
    format: format.combine(format.errors({ stack: true }), redactSecrets(), output),
    // Every level to stdout, one write per turn of the event loop (see batched-stdout.ts).
    transports: options.transports ?? [new BatchedStdoutTransport()],
  });
  // The active span's ids, read as the line is written (children write through here); a format could run later, out of the span.
  const write = logger.write.bind(logger);
  logger.write = ((info: Record<string, unknown>) => {
    const ids = activeTraceIds();
    return write(ids ? Object.assign(info, ids) : info);
  }) as typeof logger.write;
  return logger;
}

/** The fields every line of a request carries: its id, then its user and operation as they become known. */
export interface RequestLogFields {
  requestId: string;
  userId?: string;
  operationName?: string;
}

/** A request's id and its logger, as the SQL logger finds them (AsyncLocalStorage, at LOG_LEVEL=debug). */
export interface RequestScope {
  readonly requestId: string;
  readonly logger: Logger;
}

/**
 * A request's id and its logging. Most requests write one line, their
 * operation's: `log` writes it with the request's fields and no child
 * logger. `logger`, for the rare line from a resolver or the SQL logger, is
 * a child made on first use; winston reads its fields when it writes, so a
 * userId or operationName added later is on its lines too.
 */
export class RequestLog implements RequestScope {
  readonly fields: RequestLogFields;
  private child: Logger | undefined;

  constructor(
    private readonly base: Logger,
    readonly requestId: string,
  ) {
    this.fields = { requestId };
  }

  get logger(): Logger {
    return (this.child ??= this.base.child(this.fields));
  }

  /** One line with the request's fields: the line `logger.log(level, message, meta)` writes, built in one object. */
  log(level: string, message: string, meta: Record<string, unknown> = {}): void {
    this.base.log({ ...this.fields, ...meta, level, message });
  }
}

/**
 * Carries the scope down the async call chain to code with no context
 * argument (the SQL logger). Entered only at LOG_LEVEL=debug: its promise
 * hooks cost ~30% of throughput on large responses (see platform/http/server.ts).
 */
export const requestScope = new AsyncLocalStorage<RequestScope>();
