import { Client } from 'pg';
import { signUp, startTestApp } from '../support/test-app';
import { usingPostgres } from '../support/test-database';
import { waitFor } from '../support/wait';

describe('a database session ended by the server', () => {
  // The server ending a checked-out session (a restart, a failover, pg_terminate_backend) must not crash the process.
  (usingPostgres ? it : it.skip)(
    'fails the transaction that held it, is logged, and the app goes on serving',
    async () => {
      const api = await startTestApp();
      try {
        const held = api.app.dataSource.createQueryRunner();
        await held.connect();
        await held.startTransaction();
        const [{ pid }] = (await held.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];

        const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
        await admin.connect();
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        await admin.end();

        await waitFor(() => api.logs.find('database connection lost').length > 0, 'the lost connection to be logged');
        await expect(held.query('SELECT 1')).rejects.toThrow();
        await held.release().catch(() => undefined);

        const user = await signUp(api);
        expect((await api.gql('{ me { id } }', {}, { token: user.accessToken })).body.data).toEqual({
          me: { id: user.user.id },
        });
      } finally {
        await api.stop();
      }
    },
  );
});
