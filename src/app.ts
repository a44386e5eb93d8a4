import type { GraphQLSchema } from 'graphql';
import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import type { Config } from './config/config';
import { entities, eventTypes, migrations, modules, resolverClasses } from './modules';
import type { IdentityExports } from './modules/identity';
import { createDataSource, keepMigratedState } from './platform/database/data-source';
import { runMigrations } from './platform/database/migrate';
import { ReservedConnection } from './platform/database/reserved-connection';
import { onConnection, UnitOfWork } from './platform/database/unit-of-work';
import type { EventConsumer } from './platform/events/event';
import { EventBus } from './platform/events/event-bus';
import { createRedisClient } from './platform/events/redis';
import { RateLimits } from './platform/rate-limit';
import { RedisApqCache } from './platform/graphql/redis-apq-cache';
import { buildGraphQLSchema } from './platform/graphql/schema';
import { createHttpServer, type HttpServer } from './platform/http/server';
import { AppMetrics } from './platform/metrics/metrics';
import { LiveHub } from './platform/live/live-hub';
import { InlineLiveFeed, RedisLiveFeed, type LiveFeed } from './platform/live/live-feed';
import { LiveMetrics } from './platform/live/metrics';
import { createMailer, type Mailer } from './platform/mail/mailer';
import { buildModules } from './platform/module';
import { rolesOf, type Roles } from './platform/roles';
import { systemClock, type Clock } from './platform/clock';
import type { Logger } from './platform/logging/logger';

export { entities, migrations, modules };

/** The API's schema; with resolver instances (and the live hub, for subscriptions) it can execute, without them it can only be printed. */
export function buildApiSchema(resolverInstances?: object[], live?: LiveHub): Promise<GraphQLSchema> {
  return buildGraphQLSchema(resolverClasses, resolverInstances, live);
}

export interface App {
  readonly http: HttpServer;
  readonly dataSource: DataSource;
  readonly mailer: Mailer;
  readonly events: EventBus;
  /** What this instance runs (ROLE, WORKER_MODULES). */
  readonly roles: Roles;
  /** The live subscriptions of this instance (its size: how many are open). */
  readonly live: LiveHub;
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
  // Before the database opens: a WORKER_MODULES name no module has stops the start as a bad variable does.
  const roles = rolesOf(
    config,
    modules.map((module) => module.name),
  );
  const dataSource = await createDataSource({
    url: config.DATABASE_URL,
    embeddedPath: config.DATABASE_EMBEDDED_PATH,
    poolMax: config.DATABASE_POOL_MAX,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    pipelinedConnections: config.DATABASE_PIPELINED_CONNECTIONS,
    slowQueryMs: config.LOG_SLOW_QUERY_MS,
    logger,
    entities,
    migrations,
  });
  let events: EventBus | undefined;
  let redis: Redis | undefined;
  let liveFeed: LiveFeed | undefined;
  try {
    await dataSource.initialize();
    if (config.DATABASE_MIGRATE_ON_START) {
      const applied = await runMigrations(dataSource);
      if (applied.length > 0) {
        logger.info('migrations applied', { migrations: applied.map((migration) => migration.name) });
        await keepMigratedState(dataSource);
      }
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

    // The live hub serves the Subscription fields; fed by the event stream only where the API is served.
    const liveMetrics = new LiveMetrics();
    // The hub's statements (who may receive, the payloads) run on a connection of its own, not queued behind requests.
    const liveReads = new ReservedConnection(dataSource);
    const live = new LiveHub(
      built.flatMap((module) => module.liveTopics ?? []),
      liveMetrics,
      logger,
      (work) => liveReads.run((manager) => onConnection(manager, work)),
    );
    const metrics = new AppMetrics();
    metrics.watchDatabase(dataSource);
    metrics.watchEvents(events.metrics);
    metrics.watchLive(liveMetrics);
    // ROLE=worker answers only /healthz, /readyz and /metrics: no schema, no /graphql, no sockets.
    const http = await createHttpServer({
      config,
      logger,
      schema: roles.servesApi
        ? await buildApiSchema(
            built.flatMap((module) => module.resolvers),
            live,
          )
        : undefined,
      authenticate: (authorization) => identity.authenticate(authorization),
      readinessChecks: [{ name: 'database', check: () => dataSource.query('SELECT 1') }, ...events.readinessChecks],
      metrics,
      rateLimits,
      persistedQueries: redis ? new RedisApqCache(redis, `${config.REDIS_KEY_PREFIX}apq:`, logger) : undefined,
      routes: built.flatMap((module) => module.routes ?? []),
      live: { metrics: liveMetrics },
    });
    await events.connected(config.READINESS_TIMEOUT_MS);

    // The API side (ROLE=api and all): pieces that serve this instance's own clients besides /graphql start
    // here. None is a module's consumer or worker: those are the worker side's, below. The live feed reads the
    // event stream for this instance's sockets (every instance reads all of it; on the inline transport it rides
    // on the relay, so an API-only instance there has no live updates: split roles want Redis for them).
    if (roles.servesApi) {
      const deliver = (batch: Parameters<LiveHub['dispatch']>[0]) => live.dispatch(batch);
      liveFeed =
        config.eventsTransport === 'redis-streams' && config.REDIS_URL
          ? new RedisLiveFeed({ redisUrl: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger, deliver })
          : new InlineLiveFeed(events, deliver, logger);
      liveFeed.start();
    }

    // The worker side (ROLE=worker and all): the event bus's loops (relay, redelivery, housekeeping), and the
    // consumers and workers of the modules this instance runs (every module's, or those of WORKER_MODULES).
    // The bus knows every module's consumers either way: an event is settled once each has handled it.
    const consumers = [...built.flatMap((module) => module.consumers ?? []), ...(options.consumers ?? [])];
    const running = built.filter((_, index) => roles.consumingModules.has(modules[index].name));
    const workers = running.flatMap((module) => module.workers ?? []);
    if (roles.consumingModules.size > 0) {
      // A test's or a benchmark's own consumers run wherever some module's do.
      const runningConsumers = [...running.flatMap((module) => module.consumers ?? []), ...(options.consumers ?? [])];
      events.start(
        consumers,
        runningConsumers.map((consumer) => consumer.name),
      );
      for (const worker of workers) worker.start();
    } else {
      events.declare(consumers);
    }
    logger.info('instance roles', {
      role: config.ROLE,
      graphql: roles.servesApi,
      modules: [...roles.consumingModules],
      workers: workers.length,
    });

    let stopping: Promise<void> | undefined;
    const bus = events;
    const redisClient = redis;
    const feed = liveFeed;
    return {
      http,
      dataSource,
      mailer,
      events,
      roles,
      live,
      stop() {
        stopping ??= (async () => {
          try {
            await http.close();
          } finally {
            await feed?.stop();
            await live.idle();
            await liveReads.release();
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
    await liveFeed?.stop().catch(() => undefined);
    await events?.stop().catch(() => undefined);
    redis?.disconnect();
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
}
