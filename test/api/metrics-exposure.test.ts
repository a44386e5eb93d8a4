import { startTestApp, type TestApp } from '../support/test-app';

const TOKEN = 'scrape-token-0123456789';

/** Runs `check` against the app in production, as it runs: each case below differs only in its metrics settings. */
async function inProduction(env: Record<string, string>, check: (api: TestApp) => Promise<void>): Promise<void> {
  const api = await startTestApp({ NODE_ENV: 'production', LOG_LEVEL: 'info', ...env });
  try {
    await check(api);
  } finally {
    await api.stop();
  }
}

async function scrape(url: string, token?: string) {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('GET /metrics in production', () => {
  it('is served nowhere without METRICS_PORT or METRICS_TOKEN, and the log says how to turn it on', () =>
    inProduction({}, async (api) => {
      expect((await scrape(`${api.baseUrl}/metrics`)).status).toBe(404);
      expect(api.app.http.metricsUrl).toBeUndefined();
      expect(api.logs.find(/GET \/metrics is not served/)).toEqual([expect.objectContaining({ level: 'info' })]);
    }));

  it('with METRICS_TOKEN, is served on the public port only to the bearer of the token', () =>
    inProduction({ METRICS_TOKEN: TOKEN }, async (api) => {
      const url = `${api.baseUrl}/metrics`;
      expect(api.app.http.metricsUrl).toBe(url);
      const anonymous = await scrape(url);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
      expect(anonymous.text).not.toContain('http_requests_total');
      expect((await scrape(url, `${TOKEN}x`)).status).toBe(401);
      const scraped = await scrape(url, TOKEN);
      expect(scraped.status).toBe(200);
      expect(scraped.text).toContain('http_requests_total');
    }));

  // 127.0.0.2 is loopback too, but not where the public port listens: proof the listener binds METRICS_HOST.
  it('with METRICS_PORT, is served on its own listener bound to METRICS_HOST (behind the token), never on the public port', () =>
    inProduction({ METRICS_PORT: '0', METRICS_HOST: '127.0.0.2', METRICS_TOKEN: TOKEN }, async (api) => {
      const url = api.app.http.metricsUrl!;
      expect(new URL(url).hostname).toBe('127.0.0.2');
      expect((await scrape(`${api.baseUrl}/metrics`, TOKEN)).status).toBe(404);
      expect((await scrape(url)).status).toBe(401);
      const scraped = await scrape(url, TOKEN);
      expect(scraped.status).toBe(200);
      expect(scraped.text).toContain('graphql_operation_duration_seconds');
      const elsewhere = Object.assign(new URL(url), { hostname: '127.0.0.1' }).toString();
      await expect(fetch(elsewhere)).rejects.toThrow();
    }));
});
