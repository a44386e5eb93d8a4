import { isUniqueViolation } from '../../platform/database/errors';
import { byIdLoader } from '../../platform/database/load-by-ids';
import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { ConflictError } from '../../platform/errors';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import type { TypedPublisher } from '../../platform/events/outbox';
import { parseId } from '../../platform/ids';
import { MembershipsRepository } from './memberships.repository';
import type { OrganizationEvents } from './organization.events';
import type { CreateOrganizationInput, UpdateOrganizationSettingsInput } from './organization.inputs';
import type { OrganizationAccess } from './organization-access';
import type { OrganizationEntity } from './organization.entity';
import { OrganizationsRepository } from './organizations.repository';
import { Role } from './role';
import { slugFromName, withSuffix } from './slug';

const DERIVED_SLUG_ATTEMPTS = 5;

export class OrganizationsService {
  private readonly byId = byIdLoader('organizations.byId', (ids) => this.uow.get(OrganizationsRepository).byIds(ids));

  constructor(
    private readonly uow: UnitOfWork,
    private readonly access: OrganizationAccess,
    private readonly events: TypedPublisher<OrganizationEvents>,
  ) {}

  /** The creator becomes its OWNER, in the same transaction. */
  async create(ctx: RequestContext, input: CreateOrganizationInput): Promise<OrganizationEntity> {
    const userId = requireUserId(ctx);
    const name = input.name.trim();
    const explicitSlug = input.slug;
    let slug = explicitSlug ?? slugFromName(name);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.uow.transaction(async (tx) => {
          const organization = await tx.get(OrganizationsRepository).insert({ name, slug });
          await tx.get(MembershipsRepository).insert({ organizationId: organization.id, userId, role: Role.OWNER });
          await this.events.publish(tx, ctx, {
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

  /** ADMIN+; publishes what changed (nothing for a setting left as it was). */
  async updateSettings(ctx: RequestContext, input: UpdateOrganizationSettingsInput): Promise<OrganizationEntity> {
    const organizationId = parseId(input.organizationId, 'organizationId');
    await this.access.require(ctx, organizationId, Role.ADMIN);
    const updated = await this.uow.transaction(async (tx) => {
      const organizations = tx.get(OrganizationsRepository);
      await organizations.lockForUpdate(organizationId);
      const current = await organizations.getById(organizationId);
      const wanted = input.requireVerifiedEmail ?? current.requireVerifiedEmail;
      if (wanted === current.requireVerifiedEmail) return current;
      await organizations.setRequireVerifiedEmail(organizationId, wanted);
      await this.events.publish(tx, ctx, {
        type: 'organization.settings_changed',
        organizationId,
        subject: { type: 'organization', id: organizationId },
        data: { changes: { requireVerifiedEmail: { from: current.requireVerifiedEmail, to: wanted } } },
      });
      return { ...current, requireVerifiedEmail: wanted };
    });
    ctx.loaders.get(this.byId).clear(organizationId).prime(organizationId, updated);
    return updated;
  }

  /** NOT_FOUND both when it does not exist and when the viewer is not a member. */
  async get(ctx: RequestContext, id: string): Promise<OrganizationEntity> {
    const organization = await this.findById(ctx, parseId(id, 'id'));
    const visible = await this.access.requireVisible(
      ctx,
      'Organization',
      organization && { organizationId: organization.id, organization },
    );
    return visible.organization;
  }

  /** Batched per request; no authorization: for fields of records the viewer was already allowed to see. */
  findById(ctx: RequestContext, id: string): Promise<OrganizationEntity | undefined> {
    return ctx.loaders.get(this.byId).load(id);
  }

  async viewerRole(ctx: RequestContext, organizationId: string): Promise<Role> {
    return (await this.access.require(ctx, organizationId)).role;
  }
}
