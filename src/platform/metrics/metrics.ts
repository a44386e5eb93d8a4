import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource, EntitySubscriberInterface } from 'typeorm';
import type { EventMetrics } from '../events/metrics';
import type { LiveMetrics } from '../live/metrics';

const MAX_OPERATION_NAMES = 200;
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The pg pool behind a TypeORM data source, as far as its gauges need it. */
interface PoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** What the app's DataSource adds (src/platform/database/data-source.ts). */
interface PipelinedSource {
  pipelinedReads: { open: number };
}

/**
 * The process's Prometheus metrics (prom-client): HTTP requests, GraphQL
 * operations with durations, SQL durations, the database pool, the event
 * bus, and Node's own process metrics. Built once by the composition root.
 */
export class AppMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly graphqlOperations = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'GraphQL operations by name and outcome (ok or the first error code), with their durations.',
    labelNames: ['operation', 'outcome'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly sqlDuration = new Histogram({
    name: 'sql_query_duration_seconds',
    help: 'SQL statements by outcome.',
    labelNames: ['outcome'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  private readonly operationNames = new Set<string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Client-chosen operation names are labels: past a bound, new ones count as "other" so a client cannot explode the series. */
  operationLabel(name: string): string {
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    this.operationNames.add(name);
    return name;
  }

  /** SQL durations from TypeORM's afterQuery events, and the pool's connections in use, idle and waited for. */
  watchDatabase(dataSource: DataSource): void {
    const sqlDuration = this.sqlDuration;
    // TypeORM gives a failed statement no execution time: timed here from its beforeQuery (a query runner runs one
    // statement at a time), else the error outcome would never be observed.
    const startedAt = new WeakMap<object, number>();
    const subscriber: EntitySubscriberInterface = {
      beforeQuery(event) {
        if (event.queryRunner) startedAt.set(event.queryRunner, performance.now());
      },
      afterQuery(event) {
        const started = event.queryRunner ? startedAt.get(event.queryRunner) : undefined;
        const seconds =
          event.executionTime !== undefined
            ? event.executionTime / 1000
            : started !== undefined
              ? (performance.now() - started) / 1000
              : undefined;
        if (seconds !== undefined) sqlDuration.observe({ outcome: event.success ? 'ok' : 'error' }, seconds);
      },
    };
    dataSource.subscribers.push(subscriber);
    const pool = () => (dataSource.driver as unknown as { master?: PoolLike }).master;
    const gauge = (name: string, help: string, read: (pool: PoolLike) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const current = pool();
          if (current) this.set(read(current));
        },
      });
    gauge(
      'db_pool_connections_in_use',
      'Pool connections checked out.',
      (current) => current.totalCount - current.idleCount,
    );
    gauge('db_pool_connections_idle', 'Pool connections idle.', (current) => current.idleCount);
    gauge('db_pool_waiting_requests', 'Queries waiting for a pool connection.', (current) => current.waitingCount);
    new Gauge({
      name: 'db_pipelined_connections_open',
      help: 'Pipelined connections open for the hot reads (DATABASE_PIPELINED_CONNECTIONS; 0 when off).',
      registers: [this.registry],
      collect() {
        this.set((dataSource as Partial<PipelinedSource>).pipelinedReads?.open ?? 0);
      },
    });
  }

  /** The live feed (subscriptions over WebSocket): what is open now, what was sent, who was dropped and why. */
  watchLive(live: LiveMetrics): void {
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    const counter = (name: string, help: string, read: () => number) => this.runningTotal(name, help, read);
    gauge('live_connections', 'WebSocket connections open now.', () => live.connections);
    gauge('live_subscriptions', 'Subscriptions active now.', () => live.subscriptions);
    gauge('live_queued_events', 'Events queued for sockets now, over every connection.', () => live.queued);
    counter('live_messages_sent_total', 'Subscription results sent.', () => live.sent);
    counter('live_events_read_total', 'Events the live feed read from the transport.', () => live.eventsRead);
    counter(
      'live_slow_consumers_dropped_total',
      'Connections closed with 4002 because they could not keep up.',
      () => live.slowConsumersDropped,
    );
    const seen = new Map<number, number>();
    new Counter({
      name: 'live_connections_closed_total',
      help: 'Connections the server closed, by close code (1001 going away, 4001 token expired, 4002 slow consumer, 4029 too many).',
      labelNames: ['code'] as const,
      registers: [this.registry],
      collect() {
        for (const [code, count] of live.closed) {
          const before = seen.get(code) ?? 0;
          if (count > before) this.inc({ code: String(code) }, count - before);
          seen.set(code, count);
        }
      },
    });
  }
  /** A counter that follows a running total kept elsewhere, read at each scrape. */
  private runningTotal(name: string, help: string, read: () => number): Counter {
    let seen = 0;
    return new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const current = read();
        if (current > seen) this.inc(current - seen);
        seen = current;
      },
    });
  }

  /** The event bus's counters, read at each scrape. */
  watchEvents(events: EventMetrics): void {
    const counter = (name: string, help: string, read: () => number) => this.runningTotal(name, help, read);
    counter('events_published_total', 'Domain events committed to the outbox.', () => events.published);
    counter('events_relayed_total', 'Domain events handed from the outbox to the transport.', () => events.relayed);
    counter('events_delivered_total', 'Event handler runs that succeeded.', () => events.delivered);
    counter('events_failed_total', 'Event handler runs that failed or timed out.', () => events.failed);
    counter('events_dead_lettered_total', 'Events a consumer gave up on.', () => events.deadLettered);
    counter(
      'events_redelivered_total',
      'Events relayed again because Redis lost them before every consumer had handled them.',
      () => events.redelivered,
    );
    new Gauge({
      name: 'events_relay_lag_seconds',
      help: 'Age of the oldest event not yet relayed, as of the relay’s last look.',
      registers: [this.registry],
      collect() {
        this.set(events.relayLagMs / 1000);
      },
    });
  }

  /** The Prometheus text of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** A separate listener for /metrics (METRICS_PORT), so the public port need not serve it; `authorized` checks a bearer token. */
export async function startMetricsServer(
  metrics: AppMetrics,
  host: string,
  port: number,
  authorized: (authorization: string | undefined) => boolean = () => true,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (!authorized(request.headers.authorization)) {
      response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('unauthorized');
      return;
    }
    metrics.render().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed'),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
