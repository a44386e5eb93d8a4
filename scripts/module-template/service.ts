import type { ModuleNames } from './names';

/** The event map and its catalog: created/updated/deleted, each for webhooks and with an audit line. */
export function eventsFile(n: ModuleNames): string {
  return `import { defineEvents } from '../../platform/events/catalog';
import type { Change } from '../../platform/events/changes';
import type { ${n.Name}Entity } from './${n.kebab}.entity';

/** Dates as events carry them: ISO-8601 text. */
type Json<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

/** A ${n.words} as ${n.snake}.created carries it: every column but the bookkeeping ones, so a new column needs no edit here. */
export type ${n.Name}Snapshot = Json<Omit<${n.Name}Entity, 'id' | 'organizationId' | 'createdAt' | 'updatedAt'>>;

/** The events this module publishes: type -> \`data\`. The subject is the ${n.words}. */
export type ${n.Name}Events = {
  '${n.snake}.created': ${n.Name}Snapshot;
  '${n.snake}.updated': { changes: Record<string, Change<unknown>> };
  '${n.snake}.deleted': { name: string };
};

/** What consumers must know of each event: the compiler refuses a type of ${n.Name}Events left out. */
export const ${n.name}Events = defineEvents<${n.Name}Events>({
  '${n.snake}.created': {
    description: 'A ${n.words} was created; data is the ${n.words}.',
    webhook: true,
    audit: (event) => \`created the ${n.words} "\${event.data.name}"\`,
  },
  '${n.snake}.updated': {
    description: 'A ${n.words} changed; data.changes has each field from and to.',
    webhook: true,
    audit: (event) => \`changed \${Object.keys(event.data.changes).join(', ')} of a ${n.words}\`,
  },
  '${n.snake}.deleted': {
    description: 'A ${n.words} was deleted.',
    webhook: true,
    audit: (event) => \`deleted the ${n.words} "\${event.data.name}"\`,
  },
});
`;
}

/** The service: the rules (membership via access), one transaction per write, the event published with it. */
export function serviceFile(n: ModuleNames): string {
  const subject = `subject: { type: '${n.snake}', id: ${n.name}.id }`;
  return `import { byIdLoader } from '../../platform/database/load-by-ids';
import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { changesBetween, plain } from '../../platform/events/changes';
import type { TypedPublisher } from '../../platform/events/outbox';
import { NotFoundError } from '../../platform/errors';
import type { RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { pageRequest, type Connection, type PageArgs } from '../../platform/pagination';
import { Role, type OrganizationAccess } from '../organizations';
import type { ${n.Name}Entity } from './${n.kebab}.entity';
import type { ${n.Name}Events, ${n.Name}Snapshot } from './${n.kebab}.events';
import type { Create${n.Name}Input, Update${n.Name}Input } from './${n.kebab}.inputs';
import { ${n.Names}Repository } from './${n.module}.repository';

/** What ${n.snake}.created tells of a new ${n.words}: its columns but the bookkeeping ones, as JSON; a new column travels without an edit here. */
function snapshot(${n.name}: ${n.Name}Entity): ${n.Name}Snapshot {
  const { id: _id, organizationId: _organizationId, createdAt: _createdAt, updatedAt: _updatedAt, ...fields } = ${n.name};
  return Object.fromEntries(Object.entries(fields).map(([field, value]) => [field, plain(value)])) as ${n.Name}Snapshot;
}

/** An organization's ${n.words} records: any member reads and writes them (raise \`minimum\` in require to narrow that). */
export class ${n.Names}Service {
  private readonly byId = byIdLoader('${n.names}.byId', (ids) => this.uow.get(${n.Names}Repository).byIds(ids));

  constructor(
    private readonly uow: UnitOfWork,
    private readonly access: OrganizationAccess,
    private readonly events: TypedPublisher<${n.Name}Events>,
  ) {}

  /** The ${n.words} if the viewer is a member of its organization with at least \`minimum\`: NOT_FOUND (absent and hidden alike), FORBIDDEN, UNAUTHENTICATED. */
  async require(ctx: RequestContext, id: string, minimum: Role = Role.MEMBER): Promise<${n.Name}Entity> {
    return this.access.requireVisible(ctx, '${n.Words}', await this.findById(ctx, id), minimum);
  }

  get(ctx: RequestContext, id: string): Promise<${n.Name}Entity> {
    return this.require(ctx, parseId(id, 'id'));
  }

  /** Batched per request; no authorization: for fields of records the viewer was already allowed to see. */
  findById(ctx: RequestContext, id: string): Promise<${n.Name}Entity | undefined> {
    return ctx.loaders.get(this.byId).load(id);
  }

  /** Newest first; one statement for the page and its total. */
  async list(ctx: RequestContext, organizationId: string, args: PageArgs): Promise<Connection<${n.Name}Entity>> {
    const orgId = parseId(organizationId, 'organizationId');
    await this.access.require(ctx, orgId);
    const [page] = await this.uow.get(${n.Names}Repository).pages([orgId], pageRequest(args, ['timestamp', 'uuid']));
    return page;
  }

  async create(ctx: RequestContext, input: Create${n.Name}Input): Promise<${n.Name}Entity> {
    const organizationId = parseId(input.organizationId, 'organizationId');
    await this.access.require(ctx, organizationId);
    const values = this.uow.get(${n.Names}Repository).valuesOf(input);
    return this.uow.transaction(async (tx) => {
      const ${n.name} = await tx.get(${n.Names}Repository).insert({ ...values, organizationId });
      await this.events.publish(tx, ctx, { type: '${n.snake}.created', organizationId, ${subject}, data: snapshot(${n.name}) });
      return ${n.name};
    });
  }

  /** In one transaction: the row locked, the input's fields written when any differs, and ${n.snake}.updated published with what changed; no difference, no write. */
  async update(ctx: RequestContext, input: Update${n.Name}Input): Promise<${n.Name}Entity> {
    const { id } = await this.require(ctx, parseId(input.id, 'id'));
    const wanted = this.uow.get(${n.Names}Repository).valuesOf(input);
    const updated = await this.uow.transaction(async (tx) => {
      const repository = tx.get(${n.Names}Repository);
      const current = await repository.lockForUpdate(id);
      if (!current) throw new NotFoundError('${n.Words}');
      const changes = changesBetween(current, { ...current, ...wanted }, Object.keys(wanted) as (keyof ${n.Name}Entity)[]);
      if (Object.keys(changes).length === 0) return current;
      const ${n.name} = await repository.update(id, wanted);
      await this.events.publish(tx, ctx, { type: '${n.snake}.updated', organizationId: ${n.name}.organizationId, ${subject}, data: { changes } });
      return ${n.name};
    });
    ctx.loaders.get(this.byId).clear(id).prime(id, updated);
    return updated;
  }

  /** True when this call deleted it; ${n.snake}.deleted is published with the delete. */
  async delete(ctx: RequestContext, id: string): Promise<boolean> {
    const ${n.name} = await this.require(ctx, parseId(id, 'id'));
    const deleted = await this.uow.transaction(async (tx) => {
      if (!(await tx.get(${n.Names}Repository).delete(${n.name}.id))) return false;
      await this.events.publish(tx, ctx, { type: '${n.snake}.deleted', organizationId: ${n.name}.organizationId, ${subject}, data: { name: ${n.name}.name } });
      return true;
    });
    ctx.loaders.get(this.byId).clear(${n.name}.id);
    return deleted;
  }
}
`;
}
