import { byIdLoader } from '../../platform/database/load-by-ids';
import type { Transaction, UnitOfWork } from '../../platform/database/unit-of-work';
import { ConflictError, ForbiddenError, NotFoundError } from '../../platform/errors';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import type { TypedPublisher } from '../../platform/events/outbox';
import { parseId } from '../../platform/ids';
import {
  childPagesLoader,
  pageRequest,
  type Connection,
  type PageArgs,
  type PageRequest,
} from '../../platform/pagination';
import type { MembershipEntity } from './membership.entity';
import { MembershipsRepository } from './memberships.repository';
import type { OrganizationEvents } from './organization.events';
import type { ChangeMemberRoleInput } from './organization.inputs';
import type { OrganizationAccess } from './organization-access';
import { OrganizationsRepository } from './organizations.repository';
import { Role } from './role';

const LAST_OWNER = 'An organization needs an OWNER: make someone else OWNER first';

/** deleteAccount of the last OWNER of organizations: CONFLICT naming them, so the client can offer to hand each over. */
export class LastOwnerError extends ConflictError {
  constructor(readonly organizationIds: string[]) {
    super(
      `You are the last OWNER of ${organizationIds.length === 1 ? 'an organization' : `${organizationIds.length} organizations`}: make someone else OWNER, or delete it, first`,
    );
  }

  override extensions(): Record<string, unknown> {
    return { organizationIds: this.organizationIds };
  }
}

/**
 * Members, role changes and removals. Authorization reads happen before the
 * transaction (embedded mode has one connection); inside it, the
 * organization row is locked so two owners cannot both step down at once.
 */
export class MembershipsService {
  private readonly byId = byIdLoader('memberships.byId', (ids) => this.uow.get(MembershipsRepository).byIds(ids));
  private readonly pages = childPagesLoader('memberships.pages', (ids: readonly string[], page: PageRequest) =>
    this.uow.get(MembershipsRepository).pages(ids, page),
  );

  constructor(
    private readonly uow: UnitOfWork,
    private readonly access: OrganizationAccess,
    private readonly events: TypedPublisher<OrganizationEvents>,
  ) {}

  /** ADMIN+; only an OWNER grants OWNER or changes an OWNER's role; the last OWNER stays one. */
  async changeRole(ctx: RequestContext, input: ChangeMemberRoleInput): Promise<MembershipEntity> {
    const target = await this.require(ctx, parseId(input.membershipId, 'membershipId'), Role.ADMIN);
    // The viewer's membership that requireVisible just checked, from the request's loader: no second statement.
    const actor = await this.access.require(ctx, target.organizationId);
    if ((target.role === Role.OWNER || input.role === Role.OWNER) && actor.role !== Role.OWNER) {
      throw new ForbiddenError('Only an OWNER grants or removes the OWNER role');
    }
    const changed = await this.uow.transaction(async (tx) => {
      const current = await this.lockAndReload(tx, target);
      if (current.role === input.role) return current;
      if (current.role === Role.OWNER) await this.assertAnotherOwner(tx, current);
      const previousRole = current.role;
      await tx.get(MembershipsRepository).setRole(current.id, input.role);
      current.role = input.role;
      await this.events.publish(tx, ctx, {
        type: 'member.role_changed',
        organizationId: current.organizationId,
        subject: { type: 'membership', id: current.id },
        data: { membershipId: current.id, userId: current.userId, previousRole, role: input.role },
      });
      return current;
    });
    ctx.loaders.get(this.byId).clear(changed.id).prime(changed.id, changed);
    this.access.forget(ctx, changed.organizationId);
    return changed;
  }

  /** ADMIN+ removes others (only an OWNER removes an OWNER); anyone may leave; the last OWNER cannot. */
  async remove(ctx: RequestContext, membershipId: string): Promise<boolean> {
    const viewerId = requireUserId(ctx);
    const target = await this.require(ctx, parseId(membershipId, 'membershipId'));
    if (target.userId !== viewerId) {
      const actor = await this.access.require(ctx, target.organizationId, Role.ADMIN);
      if (target.role === Role.OWNER && actor.role !== Role.OWNER) {
        throw new ForbiddenError('Only an OWNER removes an OWNER');
      }
    }
    await this.uow.transaction(async (tx) => {
      const current = await this.lockAndReload(tx, target);
      if (current.role === Role.OWNER) await this.assertAnotherOwner(tx, current);
      await tx.get(MembershipsRepository).delete(current.id);
      await this.events.publish(tx, ctx, {
        type: 'member.removed',
        organizationId: current.organizationId,
        subject: { type: 'membership', id: current.id },
        data: {
          membershipId: current.id,
          userId: current.userId,
          role: current.role,
          left: current.userId === viewerId,
        },
      });
    });
    ctx.loaders.get(this.byId).clear(target.id);
    this.access.forget(ctx, target.organizationId);
    return true;
  }

  /**
   * deleteAccount, in its transaction: the user leaves every organization (member.removed with accountDeleted), or
   * nothing happens and LastOwnerError names each organization the user is the last OWNER of. Organization rows are
   * locked in id order, as changeRole and remove lock them, so concurrent owner changes queue.
   */
  async removeUser(tx: Transaction, ctx: RequestContext, userId: string): Promise<void> {
    const memberships = [...(await tx.get(MembershipsRepository).ofUser(userId))].sort((a, b) =>
      a.organizationId.localeCompare(b.organizationId),
    );
    const lastOwnerOf: string[] = [];
    for (const membership of memberships) {
      await tx.get(OrganizationsRepository).lockForUpdate(membership.organizationId);
      if (
        membership.role === Role.OWNER &&
        (await tx.get(MembershipsRepository).countWithRole(membership.organizationId, Role.OWNER)) <= 1
      ) {
        lastOwnerOf.push(membership.organizationId);
      }
    }
    if (lastOwnerOf.length > 0) throw new LastOwnerError(lastOwnerOf);
    for (const membership of memberships) {
      await tx.get(MembershipsRepository).delete(membership.id);
      await this.events.publish(tx, ctx, {
        type: 'member.removed',
        organizationId: membership.organizationId,
        subject: { type: 'membership', id: membership.id },
        data: { membershipId: membership.id, userId, role: membership.role, left: true, accountDeleted: true },
      });
      this.access.forget(ctx, membership.organizationId);
    }
  }

  /** Members, oldest first; the members of every organization in one response load in one statement. */
  async page(ctx: RequestContext, organizationId: string, args: PageArgs): Promise<Connection<MembershipEntity>> {
    await this.access.require(ctx, organizationId);
    return ctx.loaders.get(this.pages).load(organizationId, pageRequest(args, ['timestamp', 'uuid']));
  }

  /** A user's memberships, oldest first. */
  async forUser(userId: string): Promise<MembershipEntity[]> {
    return this.uow.get(MembershipsRepository).ofUser(userId);
  }

  /** The membership, if the viewer belongs to its organization with at least `minimum`: NOT_FOUND (absent and hidden alike), FORBIDDEN. */
  private async require(
    ctx: RequestContext,
    membershipId: string,
    minimum: Role = Role.MEMBER,
  ): Promise<MembershipEntity> {
    return this.access.requireVisible(ctx, 'Membership', await ctx.loaders.get(this.byId).load(membershipId), minimum);
  }

  private async lockAndReload(tx: Transaction, target: MembershipEntity): Promise<MembershipEntity> {
    await tx.get(OrganizationsRepository).lockForUpdate(target.organizationId);
    const [current] = await tx.get(MembershipsRepository).byIds([target.id]);
    if (!current) throw new NotFoundError('Membership');
    return current;
  }

  private async assertAnotherOwner(tx: Transaction, owner: MembershipEntity): Promise<void> {
    const owners = await tx.get(MembershipsRepository).countWithRole(owner.organizationId, Role.OWNER);
    if (owners <= 1) throw new ConflictError(LAST_OWNER);
  }
}
