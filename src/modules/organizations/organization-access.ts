import DataLoader from 'dataloader';
import { In, type DataSource } from 'typeorm';
import { ForbiddenError, NotFoundError } from '../../platform/errors';
import { LoaderKey, requireUserId, type RequestContext, type Viewer } from '../../platform/graphql/context';
import { isUuid } from '../../platform/ids';
import { MembershipEntity } from './membership.entity';
import { atLeast, Role } from './role';

/**
 * The authorization helper other modules use: is the viewer a member of this
 * organization, with at least this role? The viewer's memberships are loaded
 * once per request (one query for all organizations asked about in a tick).
 */
export class OrganizationAccess {
  private readonly viewerMemberships: LoaderKey<DataLoader<string, MembershipEntity | undefined>>;
  private readonly sharedWithViewer: LoaderKey<DataLoader<string, boolean>>;

  constructor(private readonly dataSource: DataSource) {
    this.viewerMemberships = new LoaderKey('organizations.viewerMemberships', (viewer) =>
      new DataLoader((organizationIds: readonly string[]) => this.loadViewerMemberships(viewer, organizationIds)),
    );
    this.sharedWithViewer = new LoaderKey('organizations.sharedWithViewer', (viewer) =>
      new DataLoader((userIds: readonly string[]) => this.loadSharedWithViewer(viewer, userIds)),
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

  /** After a write to the viewer's own membership, so later fields of the same request see it. */
  forget(ctx: RequestContext, organizationId: string): void {
    ctx.loaders.get(this.viewerMemberships).clear(organizationId);
  }

  /** Whether `userId` (anyone, not only the viewer) is a member of the organization: for assignees and the like. */
  async isMember(organizationId: string, userId: string): Promise<boolean> {
    return this.dataSource.getRepository(MembershipEntity).existsBy({ organizationId, userId });
  }

  /** Whether the viewer and `userId` are members of a common organization (a viewer always shares with themself). */
  async sharesOrganizationWith(ctx: RequestContext, userId: string): Promise<boolean> {
    if (ctx.viewer.kind !== 'user') return false;
    if (ctx.viewer.userId === userId) return true;
    return ctx.loaders.get(this.sharedWithViewer).load(userId);
  }

  private async loadViewerMemberships(viewer: Viewer, organizationIds: readonly string[]) {
    if (viewer.kind !== 'user') return organizationIds.map(() => undefined);
    const rows = await this.dataSource
      .getRepository(MembershipEntity)
      .findBy({ userId: viewer.userId, organizationId: In([...organizationIds]) });
    const byOrganization = new Map(rows.map((row) => [row.organizationId, row]));
    return organizationIds.map((id) => byOrganization.get(id));
  }

  private async loadSharedWithViewer(viewer: Viewer, userIds: readonly string[]) {
    if (viewer.kind !== 'user') return userIds.map(() => false);
    const rows = (await this.dataSource.query(
      `SELECT DISTINCT theirs.user_id
         FROM memberships mine
         JOIN memberships theirs ON theirs.organization_id = mine.organization_id
        WHERE mine.user_id = $1 AND theirs.user_id = ANY($2::uuid[])`,
      [viewer.userId, userIds],
    )) as { user_id: string }[];
    const shared = new Set(rows.map((row) => row.user_id));
    return userIds.map((id) => shared.has(id));
  }
}
