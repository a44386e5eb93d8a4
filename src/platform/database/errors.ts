const UNIQUE_VIOLATION = '23505';

/** Whether a TypeORM QueryFailedError came from a unique constraint (PostgreSQL's 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { driverError?: { code?: string } } | null)?.driverError?.code === UNIQUE_VIOLATION;
}

/** Socket failures of the driver: the server is down, restarting, or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/** SQLSTATEs of a server that cannot serve now: class 08 (connection exception), shutdown, starting up, out of connections. */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123]|53300)$/;
/** What pg and pg-pool say, without a code, about a session that died or never came. */
const UNAVAILABLE_MESSAGE =
  /^Connection terminated|timeout exceeded when trying to connect|is not queryable|Cannot use a pool after calling end/;

/**
 * Whether an error means the database cannot be reached (a restart, a
 * network cut, an exhausted server), as opposed to a statement that failed:
 * the first is "retry later", the second our bug.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  // Not `instanceof Error`: the driver's socket errors may come from another realm (a test runner's sandbox).
  let current = error as
    | { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; thrownValue?: unknown }
    | null
    | undefined;
  for (let depth = 0; current !== null && typeof current === 'object' && depth < 5; depth += 1) {
    const { code, message } = current;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    // TypeORM releases a transaction's runner when its session dies (the pg client's 'error' event), so the next
    // statement or the COMMIT throws this instead of the socket error: inside EntityManager.transaction, only a lost
    // session releases the runner.
    // The same, met by the next statement through that transaction's EntityManager.
    const name = (current as { name?: unknown }).name;
    if (name === 'QueryRunnerAlreadyReleasedError' || name === 'QueryRunnerProviderAlreadyReleasedError') return true;
    // TypeORM keeps the driver's error in driverError; graphql-js wraps what is not an Error (to it) in NonErrorThrown.thrownValue.
    current = (current.driverError ?? current.cause ?? current.thrownValue) as typeof current;
  }
  return false;
}
