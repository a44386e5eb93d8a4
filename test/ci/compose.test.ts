import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config';

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

const apis = Object.entries(compose.services).filter(([, service]) => service.build === '.');
const environment = (service: Service) =>
  Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([name, value]) => [name, interpolate(String(value))]),
  );

describe('compose.yaml', () => {
  it('runs two API instances from the Dockerfile with the same settings', () => {
    expect(apis.map(([name]) => name)).toEqual(['api-1', 'api-2']);
    expect(environment(apis[1]![1])).toEqual(environment(apis[0]![1]));
  });

  it('gives them a production configuration the app accepts without a warning, mail going to Mailpit', () => {
    const env = environment(apis[0]![1]);
    expect(env.NODE_ENV).toBe('production');
    const { config, warnings } = loadConfig(env);
    expect(warnings).toEqual([]);
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
});
