import type { DataSource } from 'typeorm';
import type { Config } from '../config/config';
import type { EventConsumer } from './events/event';
import type { EventPublisher } from './events/outbox';
import type { Logger } from './logging/logger';
import type { RateLimits } from './rate-limit';

/** What the platform hands every module's build(). Modules add what they need from other modules. */
export interface PlatformDeps {
  config: Config;
  logger: Logger;
  dataSource: DataSource;
  /** Publishes domain events into the outbox, inside the caller's transaction; `events.typed<MyEvents>()` for type checks. */
  events: EventPublisher;
  /** Rate limiters on Redis when REDIS_URL is set (shared by every instance), in memory otherwise. */
  rateLimits: RateLimits;
}

export interface BuiltModule<TExports> {
  /** One instance of each class in the definition's `resolvers`. */
  resolvers: object[];
  /** The services other modules may use, as named in the module's index.ts. */
  exports: TExports;
  /** The module's event consumers (usually one, named after the module); each is a consumer group of its own. */
  consumers?: EventConsumer[];
  /** Background loops of the module (a sender of scheduled deliveries, say): started once the app serves, stopped before the database closes. */
  workers?: ModuleWorker[];
}

export interface ModuleWorker {
  start(): void;
  /** Finishes the work in flight. */
  stop(): Promise<void>;
}

export interface ModuleDefinition<TDeps extends PlatformDeps, TExports> {
  name: string;
  /** TypeORM entity classes stored by this module. */
  entities: Function[];
  /** type-graphql resolver classes; the schema is built from these alone, so exporting it needs no database. */
  resolvers: Function[];
  build(deps: TDeps): BuiltModule<TExports>;
}

/** Declares a module; a function (not a bare object) so the types of deps and exports are checked at the definition. */
export function defineModule<TDeps extends PlatformDeps, TExports>(
  definition: ModuleDefinition<TDeps, TExports>,
): ModuleDefinition<TDeps, TExports> {
  return definition;
}
