import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config';
import { modules } from '../../src/modules';
import { rolesOf } from '../../src/platform/roles';

const root = resolve(__dirname, '../..');

interface Service {
  build?: string;
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(resolve(root, 'compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const caddyfile = readFileSync(resolve(root, 'deploy/Caddyfile'), 'utf8');

/** Compose's `${NAME:-default}` with nothing set in the shell: the default. */
function interpolate(value: string): string {
  return value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
}

/** Every instance of the app (built from the Dockerfile), and among them the API instances behind Caddy. */
const instances = Object.entries(compose.services).filter(([, service]) => service.build === '.');
const apis = instances.filter(([, service]) => service.environment?.ROLE === 'api');
const workers = instances.filter(([, service]) => service.environment?.ROLE === 'worker');
const environment = (service: Service) =>
  Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [name, interpolate(String(value))]),
  );

describe('compose.yaml', () => {
  it('runs two API instances and one worker from the Dockerfile, with the same settings but ROLE', () => {
    expect(instances.map(([name]) => name)).toEqual(['api-1', 'api-2', 'worker']);
    expect(apis.map(([name]) => name)).toEqual(['api-1', 'api-2']);
    expect(workers.map(([name]) => name)).toEqual(['worker']);
    expect(apis[1]![1]).toEqual(apis[0]![1]);
    expect(environment(apis[1]![1])).toEqual(environment(apis[0]![1]));
    expect(environment(workers[0]![1])).toEqual({ ...environment(apis[0]![1]), ROLE: 'worker' });
    // The worker is reached by nobody but its health check: no published port.
    expect(workers[0]![1].ports).toBeUndefined();
  });

  it.each(instances.map(([name, service]) => [name, service] as const))(
    'gives %s a production configuration the app accepts without a warning',
    (_, service) => {
      const env = environment(service);
      expect(env.NODE_ENV).toBe('production');
      const { config, warnings } = loadConfig(env);
      expect(warnings).toEqual([]);
      expect(() =>
        rolesOf(
          config,
          modules.map((module) => module.name),
        ),
      ).not.toThrow();
    },
  );

  it('sends their mail to Mailpit, on the one PostgreSQL and Redis', () => {
    const { config } = loadConfig(environment(apis[0]![1]));
    expect(config.MAIL_TRANSPORT).toBe('smtp');
    expect(new URL(config.SMTP_URL!).hostname).toBe('mailpit');
    expect(new URL(config.DATABASE_URL!).hostname).toBe('postgres');
    expect(new URL(config.REDIS_URL!).hostname).toBe('redis');
    expect(decodeURIComponent(new URL(config.DATABASE_URL!).password)).toBe(
      interpolate(compose.services.postgres!.environment!.POSTGRES_PASSWORD!),
    );
  });

  it('marks its placeholder secrets as local-only, and lets the shell override each', () => {
    const raw = apis[0]![1].environment!;
    expect(raw.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:-.*NOT-A-SECRET.*\}$/);
    expect(raw.DATA_ENCRYPTION_KEYS).toMatch(/^\$\{DATA_ENCRYPTION_KEYS:-local:/);
    expect(Buffer.from(interpolate(raw.DATA_ENCRYPTION_KEYS!).split(':')[1]!, 'base64').toString()).toContain(
      'NOT-A-SECRET',
    );
  });

  it('puts both instances behind one port, each in rotation only while /readyz passes', () => {
    const port = environment(apis[0]![1]).PORT;
    const upstreams = /reverse_proxy\s+([^{]+)\{/.exec(caddyfile)?.[1]?.trim().split(/\s+/);
    expect(upstreams).toEqual(apis.map(([name]) => `${name}:${port}`));
    expect(caddyfile).toMatch(/^\s*health_uri \/readyz$/m);
    expect(compose.services.proxy!.ports).toEqual([`${port}:${port}`]);
    expect(Object.keys(compose.services.proxy!.depends_on ?? {})).toEqual(apis.map(([name]) => name));
  });

  it("sends both instances' traces to Jaeger over OTLP/HTTP, its UI on the host", () => {
    const env = environment(apis[0]![1]);
    const { config } = loadConfig(env);
    expect(new URL(config.OTEL_EXPORTER_OTLP_ENDPOINT!)).toMatchObject({ hostname: 'jaeger', port: '4318' });
    expect(compose.services.jaeger!.image).toMatch(/^jaegertracing\/all-in-one:\d+\.\d+\.\d+$/);
    expect(compose.services.jaeger!.ports).toEqual(['16686:16686']);
    expect(apis[0]![1].depends_on?.jaeger).toEqual({ condition: 'service_started' });
  });
});
