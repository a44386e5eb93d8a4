import { pipelinedRead } from '../../src/platform/database/prepared-statements';
import { createOrganization } from '../support/organizations';
import { signUp, startTestApp, type TestApp } from '../support/test-app';
import { eventsHandled, waitFor } from '../support/wait';

/** The value of one series in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((entry) => entry.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics on the public port (METRICS_PORT unset)', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp();
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('reports HTTP requests, GraphQL operations with durations, SQL, the pool, the event bus and the process', async () => {
    const owner = await signUp(api);
    await api.gql('query Me { me { id } }', {}, { token: owner.accessToken });
    await api.gql('query Me { me { id } }', {}, { token: owner.accessToken });
    await api.gql('query Secret { organization(id: "7d1c1c52-9a45-4bb2-8d8e-0d8b6ad0a001") { id } }');
    await createOrganization(api, owner, 'Measured');
    await eventsHandled(api);

    const response = await fetch(`${api.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(sample(text, 'http_requests_total{method="POST",route="/graphql",status="200"}')).toBeGreaterThanOrEqual(4);
    expect(sample(text, 'graphql_operation_duration_seconds_count{operation="Me",outcome="ok"}')).toBe(2);
    expect(sample(text, 'graphql_operation_duration_seconds_count{operation="Secret",outcome="UNAUTHENTICATED"}')).toBe(
      1,
    );
    expect(sample(text, 'graphql_operation_duration_seconds_bucket{le="+Inf",operation="Me",outcome="ok"}')).toBe(2);
    expect(sample(text, 'sql_query_duration_seconds_count{outcome="ok"}')).toBeGreaterThan(3);
    expect(sample(text, 'db_pool_connections_in_use')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'db_pool_waiting_requests')).toBeGreaterThanOrEqual(0);
    // The background loops (the relay's poll, the digest sender) take the embedded database's one connection now and
    // then, so a scrape may catch one of them waiting; an idle pool reports none.
    await waitFor(
      async () => sample(await (await fetch(`${api.baseUrl}/metrics`)).text(), 'db_pool_waiting_requests') === 0,
      'the pool to have no waiting request',
    );
    expect(sample(text, 'events_published_total')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'events_delivered_total')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'events_dead_lettered_total')).toBe(0);
    expect(sample(text, 'events_relay_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_heap_size_used_bytes');
  });

  it('counts failed SQL statements under outcome="error"', async () => {
    const errors = async () =>
      sample(
        await (await fetch(`${api.baseUrl}/metrics`)).text(),
        'sql_query_duration_seconds_count{outcome="error"}',
      ) ?? 0;
    const before = await errors();
    await expect(api.app.dataSource.query('SELECT 1 / 0')).rejects.toThrow(/division by zero/);
    await expect(api.app.dataSource.query(pipelinedRead('SELECT $1::int AS n'), ['x'])).rejects.toThrow(
      /invalid input/,
    );
    expect(await errors()).toBe(before + 2);
  });

  it('counts every operation name beyond the first 200 as "other", so clients cannot multiply the series', async () => {
    for (let index = 0; index < 210; index += 1) await api.gql(`query Name${index} { __typename }`);
    const text = await (await fetch(`${api.baseUrl}/metrics`)).text();
    const names = new Set(
      [...text.matchAll(/graphql_operation_duration_seconds_count\{operation="([^"]+)"/g)].map((match) => match[1]),
    );
    expect(names.size).toBeLessThanOrEqual(201);
    expect(names.has('other')).toBe(true);
  });
});

describe('with METRICS_PORT', () => {
  it('serves /metrics on that port only', async () => {
    const api = await startTestApp({ METRICS_PORT: '0' });
    try {
      expect((await fetch(`${api.baseUrl}/metrics`)).status).toBe(404);
      const url = api.app.http.metricsUrl!;
      expect(new URL(url).port).not.toBe(new URL(api.baseUrl).port);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('http_requests_total');
    } finally {
      await api.stop();
    }
  });
});
