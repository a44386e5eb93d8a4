import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { ValidationError } from 'class-validator';
import { ArgumentValidationError } from 'type-graphql';
import { isDatabaseUnavailable } from '../database/errors';
import { AppError, ServiceUnavailableError, type ErrorCode, type FieldError } from '../errors';
import { tokenLimitError } from './query-limits';

export const INTERNAL_MESSAGE = 'Internal server error';

/** What an error is to the client, decided in one place for the formatter and the operation log. */
export type ErrorKind =
  | { kind: 'app'; error: AppError }
  | { kind: 'validation'; validationErrors: FieldError[] }
  /** graphql-js or Apollo rejected the request itself (parse, validation, variable coercion). */
  | { kind: 'request'; code: string }
  | { kind: 'unexpected'; error: unknown };

export function classifyError(error: unknown): ErrorKind {
  const cause = originalError(error);
  if (cause instanceof AppError) return { kind: 'app', error: cause };
  if (cause instanceof ArgumentValidationError) {
    const details = (cause.extensions.validationErrors ?? []) as ValidationError[];
    return { kind: 'validation', validationErrors: flattenValidationErrors(details) };
  }
  const tooManyTokens = error instanceof GraphQLError ? tokenLimitError(error) : undefined;
  if (tooManyTokens) return { kind: 'app', error: tooManyTokens };
  const code = error instanceof GraphQLError ? error.extensions.code : undefined;
  if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') return { kind: 'request', code };
  // Apollo refuses some requests with a 4xx and no code (a persisted query whose hash does not match): the client's mistake.
  if (code === undefined && isClientStatus(error)) return { kind: 'request', code: 'BAD_REQUEST' };
  if (isDatabaseUnavailable(cause))
    return {
      kind: 'app',
      error: new ServiceUnavailableError(String((cause as { message?: unknown }).message ?? cause)),
    };
  return { kind: 'unexpected', error: cause };
}

function isClientStatus(error: unknown): boolean {
  const status =
    error instanceof GraphQLError ? (error.extensions.http as { status?: unknown } | undefined)?.status : undefined;
  return typeof status === 'number' && status >= 400 && status < 500;
}

export function codeOf(kind: ErrorKind): string {
  switch (kind.kind) {
    case 'app':
      return kind.error.code;
    case 'validation':
      return 'BAD_USER_INPUT' satisfies ErrorCode;
    case 'request':
      return kind.code;
    case 'unexpected':
      return 'INTERNAL_SERVER_ERROR' satisfies ErrorCode;
  }
}

/**
 * Apollo's formatError: our codes, validation details, nothing internal leaked.
 * The request id is added after formatting (operation plugin, or the HTTP layer for 4xx answers).
 */
export function createErrorFormatter(options: { exposeInternalErrors: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const kind = classifyError(error);
    const base = { locations: formatted.locations, path: formatted.path };
    switch (kind.kind) {
      case 'app':
        return {
          ...base,
          message: kind.error.message,
          extensions: { code: kind.error.code, ...kind.error.extensions() },
        };
      case 'validation':
        return {
          ...base,
          message: describeValidation(kind.validationErrors),
          extensions: { code: 'BAD_USER_INPUT', validationErrors: kind.validationErrors },
        };
      case 'request': {
        // A stack trace is for our own failures (INTERNAL_SERVER_ERROR below): a client's mistake gets its message only.
        const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
        return { ...formatted, extensions: { ...extensions, code: kind.code } };
      }
      case 'unexpected':
        return {
          ...base,
          message: options.exposeInternalErrors ? formatted.message : INTERNAL_MESSAGE,
          extensions: {
            code: 'INTERNAL_SERVER_ERROR',
            ...(options.exposeInternalErrors && formatted.extensions?.stacktrace
              ? { stacktrace: formatted.extensions.stacktrace }
              : {}),
          },
        };
    }
  };
}

function originalError(error: unknown): unknown {
  let current = error;
  while (current instanceof GraphQLError && current.originalError && current.originalError !== current) {
    current = current.originalError;
  }
  return current;
}

/** class-validator's tree as dotted paths: "email", "address.city", "items.0.name". */
export function flattenValidationErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

/** The message of a BAD_USER_INPUT: every field's messages in one line. */
export function describeValidation(errors: FieldError[]): string {
  if (errors.length === 0) return 'Invalid input';
  return `Invalid input: ${errors.map((error) => error.messages.join(', ')).join('; ')}`;
}
