import type { FastifyInstance } from 'fastify';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/config';
import type { Clock } from './clock';
import type { UnitOfWork } from './database/unit-of-work';
import type { AnyEventCatalog, EventTypes } from './events/catalog';
import type { EventConsumer } from './events/event';
import type { LiveTopic } from './live/topic';
import type { EventPublisher } from './events/outbox';
import type { Logger } from './logging/logger';
import type { Mailer } from './mail/mailer';
import type { RateLimits } from './rate-limit';

/** What the platform hands every module's build(). Modules add what they need from the modules built before them. */
export interface PlatformDeps {
  config: Config;
  logger: Logger;
  /** For the platform pieces a module wires (a sender's loop); services take `uow`. */
  dataSource: DataSource;
  /** Repositories, in a transaction or not: `uow.transaction((tx) => tx.get(TasksRepository).insert(...))`. */
  uow: UnitOfWork;
  /** Publishes domain events into the outbox, inside the caller's transaction; `events.typed(myEvents)` publishes only its catalog's types. */
  events: EventPublisher;
  /** Every event type the modules declare, with what each module says of it (audit line, webhook exposure). */
  eventTypes: EventTypes;
  mailer: Mailer;
  /** Rate limiters on Redis when REDIS_URL is set (shared by every instance), in memory otherwise. */
  rateLimits: RateLimits;
  /** The time that expiries are measured against: the system clock, or a test's. */
  clock: Clock;
}

export interface BuiltModule<TExports> {
  /** One instance of each class in the definition's `resolvers`. */
  resolvers: object[];
  /** The services later modules may use, as named in the module's index.ts; they reach those modules' build() by these names. */
  exports: TExports;
  /** The module's event consumers (usually one, named after the module); each is a consumer group of its own. */
  consumers?: EventConsumer[];
  /** The live topics of its Subscription fields: served by the API side of an instance (the HTTP/GraphQL server), fed by the event stream, never a consumer group. */
  liveTopics?: LiveTopic[];
  /** Background loops of the module (a sender of scheduled deliveries, say): started once the app serves, stopped before the database closes. */
  workers?: ModuleWorker[];
  /** Plain HTTP routes of the module (a link in a mail, say), each registered in a fastify scope of its own. */
  routes?: ModuleRoutes[];
  /** Run once the database is migrated, before the app serves; one that throws stops the start with its message (stored data the config cannot read, say). */
  startupChecks?: (() => Promise<void>)[];
}

/** Registers a module's routes on the scope it is given; its content-type parsers and hooks stay in that scope. */
export type ModuleRoutes = (fastify: FastifyInstance) => Promise<void>;

export interface ModuleWorker {
  start(): void;
  /** Finishes the work in flight. */
  stop(): Promise<void>;
}

export interface ModuleDefinition<TDeps extends PlatformDeps, TExports> {
  name: string;
  /** TypeORM entity classes stored by this module. */
  entities: Function[];
  /** The module's TypeORM migrations; TypeORM orders all of them by the timestamp that ends each class name. */
  migrations: Function[];
  /** type-graphql resolver classes; the schema is built from these alone, so exporting it needs no database. */
  resolvers: Function[];
  /** The events the module publishes, with what consumers must know of each (audit, webhooks). */
  events?: AnyEventCatalog;
  build(deps: TDeps): BuiltModule<TExports>;
}

/** Declares a module; a function (not a bare object) so the types of deps and exports are checked at the definition. */
export function defineModule<TDeps extends PlatformDeps, TExports>(
  definition: ModuleDefinition<TDeps, TExports>,
): ModuleDefinition<TDeps, TExports> {
  return definition;
}

/**
 * A service one module uses and a module built after it provides: the user
 * of it creates and exports the slot, the provider fills it in its build().
 * Asked before it is filled (a wiring mistake), it says which slot.
 */
export class Slot<T extends object> {
  private value: T | undefined;

  constructor(readonly name: string) {}

  fill(value: T): void {
    if (this.value) throw new Error(`The slot ${this.name} is filled twice`);
    this.value = value;
  }

  get(): T {
    if (!this.value)
      throw new Error(`The slot ${this.name} was never filled: the module that provides it is not registered`);
    return this.value;
  }
}

type DepsOf<TModule> = TModule extends ModuleDefinition<infer TDeps, unknown> ? TDeps : never;
type ExportsOf<TModule> = TModule extends ModuleDefinition<never, infer TExports> ? TExports : never;

/**
 * `true` when each module's deps are met by the platform and the exports of
 * the modules before it; otherwise the first module that is not, with the
 * names it misses (a compile error where the module list is declared).
 */
export type RegistrationOrder<TModules extends readonly unknown[], THave = PlatformDeps> = TModules extends readonly [
  infer THead,
  ...infer TRest,
]
  ? THave extends DepsOf<THead>
    ? RegistrationOrder<TRest, THave & ExportsOf<THead>>
    : { module: THead; misses: Exclude<keyof DepsOf<THead>, keyof THave> }
  : true;

/** Builds the modules in order, each with the platform and the exports of the modules before it. */
export function buildModules(
  modules: readonly ModuleDefinition<never, object>[],
  platform: PlatformDeps,
): BuiltModule<object>[] {
  const provided: Record<string, unknown> = { ...platform };
  return modules.map((module) => {
    const built = module.build(provided as never);
    Object.assign(provided, built.exports);
    return built;
  });
}
