/** The codes of API.md; each AppError subclass carries one. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'INVALID_TOKEN'
  | 'EMAIL_NOT_VERIFIED'
  | 'QUERY_TOO_COMPLEX'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface FieldError {
  /** Dotted path of the input field, e.g. "input.email" or "input.address.city". */
  field: string;
  messages: string[];
}

/**
 * An error a service means to show the client. The formatter maps it to
 * `extensions.code`; its level says how loudly the operation log reports it:
 * a client's mistake is a warning (never a stack trace), `error` is for our faults.
 */
export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;
  readonly logLevel: LogLevel = 'warn';

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }

  /** Extra entries for `extensions`, beside the code. */
  extensions(): Record<string, unknown> {
    return {};
  }
}

export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'Authentication required') {
    super(message);
  }
}

export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
  constructor(message = 'You are not allowed to do this') {
    super(message);
  }
}

export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
  constructor(what: string) {
    super(`${what} not found`);
  }
}

export class BadUserInputError extends AppError {
  readonly code = 'BAD_USER_INPUT';
  constructor(
    message: string,
    readonly validationErrors: FieldError[] = [],
  ) {
    super(message);
  }

  /** A single invalid field, e.g. an id that is not a UUID. */
  static field(field: string, message: string): BadUserInputError {
    return new BadUserInputError(`Invalid ${field}: ${message}`, [{ field, messages: [message] }]);
  }

  override extensions(): Record<string, unknown> {
    return { validationErrors: this.validationErrors };
  }
}

export class ConflictError extends AppError {
  readonly code = 'CONFLICT';
}

export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Too many requests; try again later',
  ) {
    super(message);
  }

  override extensions(): Record<string, unknown> {
    return { retryAfterSeconds: this.retryAfterSeconds };
  }
}

/** A mailed single-use token (verification, password reset, email change) that is unknown, used, expired or superseded: one answer for all, ask for a new link. */
export class InvalidTokenError extends AppError {
  readonly code = 'INVALID_TOKEN';
  constructor(message = 'This link is invalid, used or expired; ask for a new one') {
    super(message);
  }
}

/** The action needs an account whose email is verified (verifyEmail, from the link mailed at sign-up or by resendVerification). */
export class EmailNotVerifiedError extends AppError {
  readonly code = 'EMAIL_NOT_VERIFIED';
  constructor(message = 'Verify your email address first') {
    super(message);
  }
}

export type QueryLimitName = 'depth' | 'aliases' | 'directives' | 'tokens' | 'cost';

/** A query over one of the limits of src/platform/graphql/query-limits.ts, refused before any resolver runs. */
export class QueryTooComplexError extends AppError {
  readonly code = 'QUERY_TOO_COMPLEX';

  constructor(
    readonly limit: QueryLimitName,
    readonly max: number,
    readonly found?: number,
  ) {
    super(`The query exceeds the ${limit} limit of ${max}${found === undefined ? '' : ` (it has ${found})`}`);
  }

  override extensions(): Record<string, unknown> {
    return { limit: this.limit, max: this.max, ...(this.found === undefined ? {} : { found: this.found }) };
  }
}

/** How long a client is told to wait before retrying while a dependency (the database) cannot be reached. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * A dependency the request needs cannot be reached (the database restarting,
 * say): "retry later", not "broken". HTTP 503 with a Retry-After header; a
 * warning, since nothing in our code is wrong.
 */
export class ServiceUnavailableError extends AppError {
  readonly code = 'SERVICE_UNAVAILABLE';
  readonly retryAfterSeconds = UNAVAILABLE_RETRY_AFTER_SECONDS;

  /** `reason` is for the log only: the client learns nothing about our dependencies. */
  constructor(readonly reason?: string) {
    super('The service is temporarily unavailable; try again later');
  }

  override extensions(): Record<string, unknown> {
    return { retryAfterSeconds: this.retryAfterSeconds };
  }
}
