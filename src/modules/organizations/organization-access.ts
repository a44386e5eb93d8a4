import DataLoader from 'dataloader';
import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { ForbiddenError, NotFoundError } from '../../platform/errors';
import { LoaderKey, requireUserId, type RequestContext, type Viewer } from '../../platform/graphql/context';
import { isUuid } from '../../platform/ids';
import type { MembershipEntity } from './membership.entity';
import { MembershipsRepository } from './memberships.repository';
import { atLeast, Role } from './role';

/**
 * The authorization helper other modules use: is the viewer a member of this
 * organization, with at least this role? The viewer's memberships are loaded
 * once per request (one query for all organizations asked about in a tick).
 */
export class OrganizationAccess {
  private readonly viewerMemberships: LoaderKey<DataLoader<string, MembershipEntity | undefined>>;
  private readonly sharedWithViewer: LoaderKey<DataLoader<string, boolean>>;

  constructor(private readonly uow: UnitOfWork) {
    this.viewerMemberships = new LoaderKey(
      'organizations.viewerMemberships',
      (viewer) =>
        new DataLoader((organizationIds: readonly string[]) => this.loadViewerMemberships(viewer, organizationIds)),
    );
    this.sharedWithViewer = new LoaderKey(
      'organizations.sharedWithViewer',
      (viewer) => new DataLoader((userIds: readonly string[]) => this.loadSharedWithViewer(viewer, userIds)),
    );
  }

  /** The viewer's membership of the organization; undefined when anonymous, not a member, or the id is not a UUID. */
  async viewerMembership(ctx: RequestContext, organizationId: string): Promise<MembershipEntity | undefined> {
    if (ctx.viewer.kind !== 'user' || !isUuid(organizationId)) return undefined;
    return ctx.loaders.get(this.viewerMemberships).load(organizationId.toLowerCase());
  }

  /**
   * The viewer's membership with at least `minimum`: UNAUTHENTICATED when
   * anonymous, NOT_FOUND when not a member (existence is never leaked across
   * organizations), FORBIDDEN when the role is too low.
   */
  async require(ctx: RequestContext, organizationId: string, minimum: Role = Role.MEMBER): Promise<MembershipEntity> {
    requireUserId(ctx);
    const membership = await this.viewerMembership(ctx, organizationId);
    if (!membership) throw new NotFoundError('Organization');
    if (!atLeast(membership.role, minimum)) {
      throw new ForbiddenError(`This needs the ${minimum} role or higher in the organization`);
    }
    return membership;
  }

  /**
   * `record` if the viewer may see it: NOT_FOUND (the same for absent and for
   * another organization's, so existence never leaks), UNAUTHENTICATED when
   * anonymous, FORBIDDEN when the viewer's role is below `minimum`. Every
   * organization-owned record a request names by id passes through here.
   */
  async requireVisible<T extends { organizationId: string }>(
    ctx: RequestContext,
    what: string,
    record: T | null | undefined,
    minimum: Role = Role.MEMBER,
  ): Promise<T> {
    requireUserId(ctx);
    const membership = record ? await this.viewerMembership(ctx, record.organizationId) : undefined;
    if (!record || !membership) throw new NotFoundError(what);
    if (!atLeast(membership.role, minimum))
      throw new ForbiddenError(`This needs the ${minimum} role or higher in the organization`);
    return record;
  }

  /** After a write to the viewer's own membership, so later fields of the same request see it. */
  forget(ctx: RequestContext, organizationId: string): void {
    ctx.loaders.get(this.viewerMemberships).clear(organizationId);
  }

  /** Whether `userId` (anyone, not only the viewer) is a member of the organization: for assignees and the like. */
  async isMember(organizationId: string, userId: string): Promise<boolean> {
    return this.uow.get(MembershipsRepository).isMember(organizationId, userId);
  }

  /**
   * Which of the (organization, user) pairs are members now (with at least `minimum`, when given), in one statement:
   * for event handlers and the live feed acting on many events. Keys are `organizationId/userId`.
   */
  async membersAmong(
    pairs: readonly { organizationId: string; userId: string }[],
    minimum?: Role,
  ): Promise<Set<string>> {
    const roles = minimum && Object.values(Role).filter((role) => atLeast(role, minimum));
    return this.uow.get(MembershipsRepository).existing(pairs, roles);
  }

  /** Whether the viewer and `userId` are members of a common organization (a viewer always shares with themself). */
  async sharesOrganizationWith(ctx: RequestContext, userId: string): Promise<boolean> {
    if (ctx.viewer.kind !== 'user') return false;
    if (ctx.viewer.userId === userId) return true;
    return ctx.loaders.get(this.sharedWithViewer).load(userId);
  }

  private async loadViewerMemberships(viewer: Viewer, organizationIds: readonly string[]) {
    if (viewer.kind !== 'user') return organizationIds.map(() => undefined);
    return this.uow.get(MembershipsRepository).ofUserIn(viewer.userId, organizationIds);
  }

  private async loadSharedWithViewer(viewer: Viewer, userIds: readonly string[]) {
    if (viewer.kind !== 'user') return userIds.map(() => false);
    const shared = await this.uow.get(MembershipsRepository).sharingAnOrganizationWith(viewer.userId, userIds);
    return userIds.map((id) => shared.has(id));
  }
}
