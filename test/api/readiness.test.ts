import { expectedChecks } from '../support/readiness';
import { startStandaloneDatabase, type StandaloneDatabase } from '../support/standalone-database';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { startTestApp, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

describe('readiness when the database goes away', () => {
  let database: StandaloneDatabase;
  let proxy: TcpProxy;
  let api: TestApp;

  beforeAll(async () => {
    database = await startStandaloneDatabase();
    proxy = await startTcpProxy({ host: database.host, port: database.port });
    api = await startTestApp({
      DATABASE_URL: database.urlVia('127.0.0.1', proxy.port),
      DATABASE_POOL_MAX: String(database.poolMax),
      READINESS_TIMEOUT_MS: '1000',
    });
  });

  afterAll(async () => {
    await api?.stop();
    await proxy?.close();
    await database?.stop();
  });

  async function readyz() {
    const response = await fetch(`${api.baseUrl}/readyz`);
    return {
      status: response.status,
      body: (await response.json()) as { status: string; checks: Record<string, string> },
    };
  }

  it('answers 503 naming the database while it cannot be reached, and 200 again once it can', async () => {
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready', checks: expectedChecks(api) } });

    await proxy.cut();
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('not ready');
    expect(down.body.checks.database).toMatch(/failed|no answer/);

    const health = await fetch(`${api.baseUrl}/healthz`);
    expect(health.status).toBe(200);

    await proxy.restore();
    const recovered = await waitFor(async () => {
      const answer = await readyz();
      return answer.status === 200 && answer;
    }, '/readyz to answer 200 again');
    expect(recovered).toEqual({ status: 200, body: { status: 'ready', checks: expectedChecks(api) } });
  });
});
