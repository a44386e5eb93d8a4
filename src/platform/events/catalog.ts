import type { DomainEvent, EventMap } from './event';

/** What a module says of one event it publishes; the consumers that must decide read it here, never from a hand list. */
export interface EventDeclaration<TType extends string = string, TData = unknown> {
  /** One line for the schema and the docs: what happened. */
  description: string;
  /** Whether webhook endpoints may subscribe to it: false for events whose data must not leave the organization's API. */
  webhook: boolean;
  /** How the audit log shows it in a line; null: the audit log does not record it. */
  audit: ((event: DomainEvent<TType, TData>) => string) | null;
  /** What of `data` the audit log keeps (all of it when absent): say it for a payload that carries an email or a token. */
  auditData?: (data: TData) => unknown;
}

/** A module's events: one declaration per type of its event map (the compiler insists on each). */
export type EventCatalog<TMap extends EventMap> = { [K in keyof TMap & string]: EventDeclaration<K, TMap[K]> };

/** Any module's catalog, as the registry holds them (each declaration's payload type is its module's business). */
export type AnyEventCatalog = Readonly<Record<string, EventDeclaration<never, never>>>;

/** One event type of the whole app, with its declaration and the module that publishes it. */
export interface CatalogEntry extends EventDeclaration<never, never> {
  type: string;
  module: string;
}

/** Declares a module's catalog, checked against its event map. */
export function defineEvents<TMap extends EventMap>(catalog: EventCatalog<TMap>): EventCatalog<TMap> {
  return catalog;
}

/** Every event type the modules publish, in module order; a type declared twice is a mistake caught at start. */
export class EventTypes {
  readonly entries: readonly CatalogEntry[];
  private readonly byType: ReadonlyMap<string, CatalogEntry>;

  constructor(modules: readonly { name: string; events?: AnyEventCatalog }[]) {
    const entries: CatalogEntry[] = [];
    for (const module of modules) {
      for (const [type, declaration] of Object.entries(module.events ?? {})) {
        entries.push({ ...declaration, type, module: module.name });
      }
    }
    const byType = new Map(entries.map((entry) => [entry.type, entry]));
    const twice = entries.filter((entry) => byType.get(entry.type) !== entry).map((entry) => entry.type);
    if (twice.length > 0) throw new Error(`Event types declared by two modules: ${twice.join(', ')}`);
    this.entries = entries;
    this.byType = byType;
  }

  get(type: string): CatalogEntry | undefined {
    return this.byType.get(type);
  }

  get audited(): string[] {
    return this.entries.filter((entry) => entry.audit !== null).map((entry) => entry.type);
  }

  get webhookTypes(): string[] {
    return this.entries.filter((entry) => entry.webhook).map((entry) => entry.type);
  }

  /** The event as the audit log keeps it: its data through the catalog's auditData, when it has one. */
  forAudit<T extends DomainEvent>(event: T): T {
    const keep = this.byType.get(event.type)?.auditData as ((data: unknown) => unknown) | undefined;
    return keep ? { ...event, data: keep(event.data) } : event;
  }

  /** The audit line of an event; its type when no module declares it any more (an old row). */
  summarize(event: DomainEvent): string {
    return this.byType.get(event.type)?.audit?.(event as DomainEvent<never, never>) ?? event.type;
  }
}
