import { Events1795577769000 } from '../migrations/1795577769000-events';
import { EventRedelivery1796189885914 } from '../migrations/1796189885914-event-redelivery';
import { EventTraceContext1796420000000 } from '../migrations/1796420000000-event-trace-context';
import { EventTypes } from '../platform/events/catalog';
import { declareEventTypes } from '../platform/graphql/event-types';
import type { RegistrationOrder } from '../platform/module';
import { auditModule } from './audit';
import { identityModule } from './identity';
import { notificationsModule } from './notifications';
import { organizationsModule } from './organizations';
import { projectsModule } from './projects';
import { webhooksModule } from './webhooks';

/**
 * Every module, in build order: the one place a module is registered. A
 * module's build() gets the platform and the exports of the modules before
 * it; the compiler checks the order (see RegistrationOrder).
 */
export const modules = [
  identityModule,
  organizationsModule,
  projectsModule,
  auditModule,
  notificationsModule,
  webhooksModule,
] as const;

const registrationOrder: RegistrationOrder<typeof modules> = true;
void registrationOrder;

export const entities = modules.flatMap((module) => module.entities);

export const resolverClasses = modules.flatMap((module) => module.resolvers);

const timestampOf = (migration: Function) => Number(/\d+$/.exec(migration.name)?.[0]);

/** The platform's migrations and every module's, oldest first, as TypeORM runs them (by the timestamp ending each class name). */
export const migrations = [
  Events1795577769000,
  EventRedelivery1796189885914,
  EventTraceContext1796420000000,
  ...modules.flatMap((module) => module.migrations),
].sort((a, b) => timestampOf(a) - timestampOf(b));

/** Every event type the modules publish, as their catalogs declare them. */
export const eventTypes = new EventTypes(modules);
declareEventTypes(eventTypes);
