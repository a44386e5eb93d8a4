import type { DataSource, EntityManager } from 'typeorm';
import { ConflictError, ForbiddenError, NotFoundError } from '../../platform/errors';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import type { TypedPublisher } from '../../platform/events/outbox';
import { parseId } from '../../platform/ids';
import { MembershipEntity } from './membership.entity';
import type { OrganizationEvents } from './organization.events';
import type { ChangeMemberRoleInput } from './organization.inputs';
import type { OrganizationAccess } from './organization-access';
import { OrganizationEntity } from './organization.entity';
import { Role } from './role';

const LAST_OWNER = 'An organization needs an OWNER: make someone else OWNER first';

/**
 * Role changes and removals. Authorization reads happen before the
 * transaction (embedded mode has one connection); inside it, the
 * organization row is locked so two owners cannot both step down at once.
 */
export class MembershipsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: OrganizationAccess,
    private readonly events: TypedPublisher<OrganizationEvents>,
  ) {}

  /** ADMIN+; only an OWNER grants OWNER or changes an OWNER's role; the last OWNER stays one. */
  async changeRole(ctx: RequestContext, input: ChangeMemberRoleInput): Promise<MembershipEntity> {
    const target = await this.findVisible(ctx, parseId(input.membershipId, 'membershipId'));
    const actor = await this.access.require(ctx, target.organizationId, Role.ADMIN);
    if ((target.role === Role.OWNER || input.role === Role.OWNER) && actor.role !== Role.OWNER) {
      throw new ForbiddenError('Only an OWNER grants or removes the OWNER role');
    }
    const changed = await this.dataSource.transaction(async (manager) => {
      const current = await this.lockAndReload(manager, target);
      if (current.role === input.role) return current;
      if (current.role === Role.OWNER) await this.assertAnotherOwner(manager, current);
      const previousRole = current.role;
      current.role = input.role;
      await manager.update(MembershipEntity, current.id, { role: input.role });
      await this.events.publish(manager, ctx, {
        type: 'member.role_changed',
        organizationId: current.organizationId,
        subject: { type: 'membership', id: current.id },
        data: { membershipId: current.id, userId: current.userId, previousRole, role: input.role },
      });
      return current;
    });
    this.access.forget(ctx, changed.organizationId);
    return changed;
  }

  /** ADMIN+ removes others (only an OWNER removes an OWNER); anyone may leave; the last OWNER cannot. */
  async remove(ctx: RequestContext, membershipId: string): Promise<boolean> {
    const viewerId = requireUserId(ctx);
    const target = await this.findVisible(ctx, parseId(membershipId, 'membershipId'));
    if (target.userId !== viewerId) {
      const actor = await this.access.require(ctx, target.organizationId, Role.ADMIN);
      if (target.role === Role.OWNER && actor.role !== Role.OWNER) {
        throw new ForbiddenError('Only an OWNER removes an OWNER');
      }
    }
    await this.dataSource.transaction(async (manager) => {
      const current = await this.lockAndReload(manager, target);
      if (current.role === Role.OWNER) await this.assertAnotherOwner(manager, current);
      await manager.delete(MembershipEntity, current.id);
      await this.events.publish(manager, ctx, {
        type: 'member.removed',
        organizationId: current.organizationId,
        subject: { type: 'membership', id: current.id },
        data: { membershipId: current.id, userId: current.userId, role: current.role, left: current.userId === viewerId },
      });
    });
    this.access.forget(ctx, target.organizationId);
    return true;
  }

  /** A user's memberships, oldest first. */
  async forUser(userId: string): Promise<MembershipEntity[]> {
    return this.dataSource.getRepository(MembershipEntity).find({ where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** The membership, if the viewer belongs to its organization; NOT_FOUND otherwise, as if it did not exist. */
  private async findVisible(ctx: RequestContext, membershipId: string): Promise<MembershipEntity> {
    requireUserId(ctx);
    const membership = await this.dataSource.getRepository(MembershipEntity).findOneBy({ id: membershipId });
    if (!membership || !(await this.access.viewerMembership(ctx, membership.organizationId))) {
      throw new NotFoundError('Membership');
    }
    return membership;
  }

  private async lockAndReload(manager: EntityManager, target: MembershipEntity): Promise<MembershipEntity> {
    await manager
      .createQueryBuilder(OrganizationEntity, 'organization')
      .setLock('pessimistic_write')
      .where('organization.id = :id', { id: target.organizationId })
      .getOne();
    const current = await manager.findOneBy(MembershipEntity, { id: target.id });
    if (!current) throw new NotFoundError('Membership');
    return current;
  }

  private async assertAnotherOwner(manager: EntityManager, owner: MembershipEntity): Promise<void> {
    const owners = await manager.countBy(MembershipEntity, { organizationId: owner.organizationId, role: Role.OWNER });
    if (owners <= 1) throw new ConflictError(LAST_OWNER);
  }
}
