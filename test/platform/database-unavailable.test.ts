import { Client } from 'pg';
import { isDatabaseUnavailable } from '../../src/platform/database/errors';
import { startTestApp, type TestApp } from '../support/test-app';
import { usingPostgres } from '../support/test-database';
import { freePort } from '../support/throwaway-servers';
import { waitFor } from '../support/wait';

/** The classification behind SERVICE_UNAVAILABLE, on errors a real database and driver raise. */
describe('isDatabaseUnavailable', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp();
  });

  afterAll(async () => {
    await api?.stop();
  });

  const failureOf = (work: Promise<unknown>) =>
    work.then(
      () => undefined,
      (error: unknown) => error,
    );

  it('is false for a statement that failed: our bug, not an outage', async () => {
    const failures = [
      await failureOf(api.app.dataSource.query('SELEC 1')),
      await failureOf(api.app.dataSource.query('SELECT * FROM no_such_table')),
      await failureOf(api.app.dataSource.query(`SELECT 'a' || chr(0)`)),
    ];
    expect(failures.every((error) => error !== undefined)).toBe(true);
    expect(failures.map(isDatabaseUnavailable)).toEqual([false, false, false]);
  });

  it('is true for a connection refused', async () => {
    const client = new Client({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres` });
    const error = await failureOf(client.connect());
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  (usingPostgres ? it : it.skip)(
    'is true for a statement whose session the server ended (57P01, as in a restart)',
    async () => {
      const held = api.app.dataSource.createQueryRunner();
      await held.connect();
      const [{ pid }] = (await held.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
      const inFlight = failureOf(held.query('SELECT pg_sleep(30)'));
      const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
      await admin.connect();
      // Terminated once it is running, so the statement itself fails with the server's code.
      await waitFor(
        async () =>
          (await admin.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'`, [pid]))
            .rowCount === 1,
        'the statement to run',
      );
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await admin.end();
      const error = (await inFlight) as { driverError?: { code?: string } };
      // TypeORM releases the session once the pg client reports it gone, and the pool then drops it. Released by hand
      // before that, the dead client went back to the pool, and the next test's runner met "Connection terminated
      // unexpectedly" on its first statement (seen once in CI).
      await waitFor(() => held.isReleased, 'TypeORM to release the dead session');
      expect(error.driverError?.code).toBe('57P01');
      expect(isDatabaseUnavailable(error)).toBe(true);
    },
  );

  /** A query runner inside a transaction whose session PostgreSQL terminated, once TypeORM has released it. */
  async function deadTransaction() {
    const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    try {
      const runner = api.app.dataSource.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      const [{ pid }] = (await runner.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await waitFor(() => runner.isReleased, 'TypeORM to release the dead session');
      return runner;
    } finally {
      await admin.end();
    }
  }

  (usingPostgres ? it : it.skip)(
    "is true for a transaction whose session died between statements (TypeORM's released runner at COMMIT)",
    async () => {
      const runner = await deadTransaction();
      const error = await failureOf(runner.commitTransaction());
      expect((error as Error).name).toBe('QueryRunnerAlreadyReleasedError');
      expect(isDatabaseUnavailable(error)).toBe(true);
    },
  );

  (usingPostgres ? it : it.skip)(
    "is true for the next statement through a dead transaction's manager (TypeORM's released provider)",
    async () => {
      const runner = await deadTransaction();
      // What the relay met in CI: its transaction's manager asked for the next statement after the session died.
      const error = await failureOf(runner.manager.query('SELECT 1'));
      expect((error as Error).name).toBe('QueryRunnerProviderAlreadyReleasedError');
      expect(isDatabaseUnavailable(error)).toBe(true);
    },
  );
});
