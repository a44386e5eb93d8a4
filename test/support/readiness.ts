import type { TestApp } from './test-app';

/** What /readyz reports for a healthy app: the database, and Redis when the app uses it. */
export function expectedChecks(api: TestApp): Record<string, string> {
  return { database: 'ok', ...(api.config.REDIS_URL ? { redis: 'ok' } : {}) };
}
