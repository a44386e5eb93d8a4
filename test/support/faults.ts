import type { TestDatabase } from './test-database';
import { startThrowawayPostgres } from './throwaway-servers';

/**
 * Fault tests stop, kill and empty real servers of their own (PostgreSQL
 * clusters and redis-servers on free ports, see throwaway-servers.ts). They
 * run under `npm run test:faults` (FAULT_TESTS=1, in CI), not in `npm test`.
 */
export const faultTestsEnabled = process.env.FAULT_TESTS === '1';

export const describeFaults = faultTestsEnabled ? describe : describe.skip;

/** A database on a PostgreSQL cluster of the test's own (never the shared server); `drop` stops the cluster and removes its files. */
export async function throwawayDatabase(): Promise<TestDatabase> {
  const server = await startThrowawayPostgres();
  return { env: { DATABASE_URL: server.url }, drop: () => server.destroy() };
}
