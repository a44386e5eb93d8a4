import type { GraphQLSchema } from 'graphql';
import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Config } from './config/config';
import { entities, eventTypes, migrations, modules, resolverClasses } from './modules';
import type { IdentityExports } from './modules/identity';
import { createDataSource } from './platform/database/data-source';
import { runMigrations } from './platform/database/migrate';
import { UnitOfWork } from './platform/database/unit-of-work';
import type { EventConsumer } from './platform/events/event';
import { EventBus } from './platform/events/event-bus';
import { createRedisClient } from './platform/events/redis';
import { RateLimits } from './platform/rate-limit';
import { RedisApqCache } from './platform/graphql/redis-apq-cache';
import { buildGraphQLSchema } from './platform/graphql/schema';
import { createHttpServer, type HttpServer } from './platform/http/server';
import { AppMetrics } from './platform/metrics/metrics';
import { createMailer, type Mailer } from './platform/mail/mailer';
import { buildModules } from './platform/module';
import { systemClock, type Clock } from './platform/clock';
import type { Logger } from './platform/logging/logger';

export { entities, migrations, modules };

/** The API's schema; with resolver instances it can execute, without them it can only be printed. */
export function buildApiSchema(resolverInstances?: object[]): Promise<GraphQLSchema> {
  return buildGraphQLSchema(resolverClasses, resolverInstances);
}

export interface App {
  readonly http: HttpServer;
  readonly dataSource: DataSource;
  readonly mailer: Mailer;
  readonly events: EventBus;
  /** Stops accepting requests, finishes those in flight, closes the database. Safe to call twice. */
  stop(): Promise<void>;
}

export interface AppOptions {
  /** Consumers besides the modules' own (tests and benchmarks observe the bus with one). */
  consumers?: EventConsumer[];
  /** The clock modules measure expiries against (tests move one forward); the system's by default. */
  clock?: Clock;
}

/** The composition root: builds the platform pieces and the modules, wires them, and nothing else. */
export async function createApp(config: Config, logger: Logger, options: AppOptions = {}): Promise<App> {
  const dataSource = await createDataSource({
    url: config.DATABASE_URL,
    embeddedPath: config.DATABASE_EMBEDDED_PATH,
    poolMax: config.DATABASE_POOL_MAX,
    slowQueryMs: config.LOG_SLOW_QUERY_MS,
    logger,
    entities,
    migrations,
  });
  let events: EventBus | undefined;
  let redis: Redis | undefined;
  try {
    await dataSource.initialize();
    if (config.DATABASE_MIGRATE_ON_START) {
      const applied = await runMigrations(dataSource);
      if (applied.length > 0)
        logger.info('migrations applied', { migrations: applied.map((migration) => migration.name) });
    }

    const mailer = createMailer({
      transport: config.MAIL_TRANSPORT,
      from: config.MAIL_FROM,
      smtpUrl: config.SMTP_URL,
      withholdBodies: config.isProduction,
      logger,
    });
    redis = config.REDIS_URL ? createRedisClient(config.REDIS_URL, logger, `groundwork-${process.pid}`) : undefined;
    events = new EventBus({ config, logger, dataSource, redis });
    const rateLimits = new RateLimits(redis, config.REDIS_KEY_PREFIX);
    const uow = new UnitOfWork(dataSource);
    const built = buildModules(modules, {
      config,
      logger,
      dataSource,
      uow,
      events: events.publisher,
      eventTypes,
      mailer,
      rateLimits,
      clock: options.clock ?? systemClock,
    });
    for (const check of built.flatMap((module) => module.startupChecks ?? [])) await check();
    // The HTTP layer authenticates through identity, the one module the platform leans on.
    const { identity } = Object.assign({}, ...built.map((module) => module.exports)) as IdentityExports;

    const schema = await buildApiSchema(built.flatMap((module) => module.resolvers));
    const metrics = new AppMetrics();
    metrics.watchDatabase(dataSource);
    metrics.watchEvents(events.metrics);
    const http = await createHttpServer({
      config,
      logger,
      schema,
      authenticate: (authorization) => identity.authenticate(authorization),
      readinessChecks: [{ name: 'database', check: () => dataSource.query('SELECT 1') }, ...events.readinessChecks],
      metrics,
      rateLimits,
      persistedQueries: redis ? new RedisApqCache(redis, `${config.REDIS_KEY_PREFIX}apq:`, logger) : undefined,
    });
    await events.connected(config.READINESS_TIMEOUT_MS);
    events.start([...built.flatMap((module) => module.consumers ?? []), ...(options.consumers ?? [])]);
    const workers = built.flatMap((module) => module.workers ?? []);
    for (const worker of workers) worker.start();

    let stopping: Promise<void> | undefined;
    const bus = events;
    const redisClient = redis;
    return {
      http,
      dataSource,
      mailer,
      events,
      stop() {
        stopping ??= (async () => {
          try {
            await http.close();
          } finally {
            // Handlers and deliveries in flight finish while the database is still open.
            await Promise.allSettled(workers.map((worker) => worker.stop()))
              .then(() => bus.stop())
              .finally(() => {
                redisClient?.disconnect();
                return dataSource.destroy();
              });
          }
        })();
        return stopping;
      },
    };
  } catch (error) {
    await events?.stop().catch(() => undefined);
    redis?.disconnect();
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
}
