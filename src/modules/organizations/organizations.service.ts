import DataLoader from 'dataloader';
import { loadByIds } from '../../platform/database/load-by-ids';
import type { DataSource } from 'typeorm';
import { isUniqueViolation } from '../../platform/database/errors';
import { ConflictError, NotFoundError } from '../../platform/errors';
import { LoaderKey, requireUserId, type RequestContext } from '../../platform/graphql/context';
import type { TypedPublisher } from '../../platform/events/outbox';
import { parseId } from '../../platform/ids';
import { ChildPageLoader, connectionsByParent, decodeCursor, pageSize, type ChildPageRow, type Connection, type PageRequest } from '../../platform/pagination';
import { MembershipEntity } from './membership.entity';
import type { OrganizationEvents } from './organization.events';
import type { CreateOrganizationInput } from './organization.inputs';
import type { OrganizationAccess } from './organization-access';
import { OrganizationEntity } from './organization.entity';
import { Role } from './role';
import { slugFromName, withSuffix } from './slug';

const DERIVED_SLUG_ATTEMPTS = 5;
const MEMBER_ORDER = ['timestamp', 'uuid'] as const;

type MemberRow = MembershipEntity & { createdAtKey: string };

export class OrganizationsService {
  private readonly byId: LoaderKey<DataLoader<string, OrganizationEntity | undefined>>;
  private readonly memberPages: LoaderKey<ChildPageLoader<string, MemberRow>>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly access: OrganizationAccess,
    private readonly events: TypedPublisher<OrganizationEvents>,
  ) {
    this.byId = new LoaderKey('organizations.byId', () => new DataLoader((ids: readonly string[]) => loadByIds(this.dataSource, OrganizationEntity, ids)));
    this.memberPages = new LoaderKey('organizations.memberPages', () => new ChildPageLoader((ids, page) => this.loadMemberPages(ids, page)));
  }

  /** The creator becomes its OWNER, in the same transaction. */
  async create(ctx: RequestContext, input: CreateOrganizationInput): Promise<OrganizationEntity> {
    const userId = requireUserId(ctx);
    const name = input.name.trim();
    const explicitSlug = input.slug;
    let slug = explicitSlug ?? slugFromName(name);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.dataSource.transaction(async (manager) => {
          const organization = manager.create(OrganizationEntity, { name, slug });
          await manager.insert(OrganizationEntity, organization);
          await manager.insert(MembershipEntity, { organizationId: organization.id, userId, role: Role.OWNER });
          await this.events.publish(manager, ctx, {
            type: 'organization.created',
            organizationId: organization.id,
            subject: { type: 'organization', id: organization.id },
            data: { name, slug },
          });
          return organization;
        });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        if (explicitSlug || attempt >= DERIVED_SLUG_ATTEMPTS) {
          throw new ConflictError(`The slug "${slug}" is taken`);
        }
        slug = withSuffix(slugFromName(name));
      }
    }
  }

  /** NOT_FOUND both when it does not exist and when the viewer is not a member. */
  async get(ctx: RequestContext, id: string): Promise<OrganizationEntity> {
    const organizationId = parseId(id, 'id');
    await this.access.require(ctx, organizationId);
    const organization = await this.findById(ctx, organizationId);
    if (!organization) throw new NotFoundError('Organization');
    return organization;
  }

  /** Batched per request; no authorization: for fields of records the viewer was already allowed to see. */
  findById(ctx: RequestContext, id: string): Promise<OrganizationEntity | undefined> {
    return ctx.loaders.get(this.byId).load(id);
  }

  async viewerRole(ctx: RequestContext, organizationId: string): Promise<Role> {
    return (await this.access.require(ctx, organizationId)).role;
  }

  /** Members, oldest first; every organization asked for in one request is one query per page size. */
  async members(ctx: RequestContext, organizationId: string, first?: number, after?: string | null): Promise<Connection<MembershipEntity>> {
    await this.access.require(ctx, organizationId);
    const page = { size: pageSize(first), after: after ? decodeCursor(after, [...MEMBER_ORDER]) : undefined };
    return ctx.loaders.get(this.memberPages).load(organizationId, page);
  }


  private async loadMemberPages(organizationIds: readonly string[], page: PageRequest): Promise<Connection<MemberRow>[]> {
    const [afterCreatedAt, afterId] = page.after ?? [null, null];
    const rows = (await this.dataSource.query(
      `SELECT o.id AS "parentId", counts.total, m.id, m.organization_id AS "organizationId", m.user_id AS "userId",
              m.role, m.created_at AS "createdAt", m.created_at::text AS "createdAtKey"
         FROM unnest($1::uuid[]) AS o(id)
        CROSS JOIN LATERAL (SELECT count(*)::int AS total FROM memberships WHERE organization_id = o.id) counts
         LEFT JOIN LATERAL (
              SELECT * FROM memberships
               WHERE organization_id = o.id
                 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
               ORDER BY created_at, id
               LIMIT $4) m ON true
        ORDER BY o.id, m.created_at, m.id`,
      [organizationIds, afterCreatedAt, afterId, page.size + 1],
    )) as ChildPageRow<MemberRow>[];
    return connectionsByParent(organizationIds, rows, page.size, (row) => [row.createdAtKey, row.id]);
  }
}
