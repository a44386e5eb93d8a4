const UNIQUE_VIOLATION = '23505';

/** Whether a TypeORM QueryFailedError came from a unique constraint (PostgreSQL's 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { driverError?: { code?: string } } | null)?.driverError?.code === UNIQUE_VIOLATION;
}
