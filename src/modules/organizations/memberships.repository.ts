import { insertRow } from '../../platform/database/entity-columns';
import { In, type EntityManager } from 'typeorm';
import { loadKeysetPages } from '../../platform/database/keyset-pages';
import { loadByIds } from '../../platform/database/load-by-ids';
import type { Connection, PageRequest } from '../../platform/pagination';
import { MembershipEntity } from './membership.entity';
import type { Role } from './role';

/** Every statement about memberships. */
export class MembershipsRepository {
  constructor(private readonly manager: EntityManager) {}

  byIds(ids: readonly string[]): Promise<(MembershipEntity | undefined)[]> {
    return loadByIds(this.manager, MembershipEntity, ids);
  }

  /** A unique violation (memberships_organization_id_user_id_key) when the user is already a member. */
  async insert(values: Pick<MembershipEntity, 'organizationId' | 'userId' | 'role'>): Promise<MembershipEntity> {
    return insertRow(this.manager, MembershipEntity, values);
  }

  async setRole(id: string, role: Role): Promise<void> {
    await this.manager.update(MembershipEntity, id, { role });
  }

  async delete(id: string): Promise<void> {
    await this.manager.delete(MembershipEntity, id);
  }

  countWithRole(organizationId: string, role: Role): Promise<number> {
    return this.manager.countBy(MembershipEntity, { organizationId, role });
  }

  isMember(organizationId: string, userId: string): Promise<boolean> {
    return this.manager.existsBy(MembershipEntity, { organizationId, userId });
  }

  /** Which (organization, user) pairs are memberships, in one statement; answered as `organizationId/userId` keys. */
  async existing(
    pairs: readonly { organizationId: string; userId: string }[],
    roles?: readonly Role[],
  ): Promise<Set<string>> {
    if (pairs.length === 0) return new Set();
    const rows = (await this.manager.query(
      `SELECT m.organization_id AS "organizationId", m.user_id AS "userId"
         FROM unnest($1::uuid[], $2::uuid[]) AS p(organization_id, user_id)
         JOIN memberships m ON m.organization_id = p.organization_id AND m.user_id = p.user_id
        WHERE $3::text[] IS NULL OR m.role::text = ANY($3::text[])`,
      [pairs.map((pair) => pair.organizationId), pairs.map((pair) => pair.userId), roles ?? null],
    )) as { organizationId: string; userId: string }[];
    return new Set(rows.map((row) => `${row.organizationId}/${row.userId}`));
  }

  /** A user's memberships, oldest first. */
  ofUser(userId: string): Promise<MembershipEntity[]> {
    return this.manager.find(MembershipEntity, { where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** The user's membership of each organization, in the order asked, undefined where there is none. */
  async ofUserIn(userId: string, organizationIds: readonly string[]): Promise<(MembershipEntity | undefined)[]> {
    const rows = await this.manager.findBy(MembershipEntity, { userId, organizationId: In([...organizationIds]) });
    const byOrganization = new Map(rows.map((row) => [row.organizationId, row]));
    return organizationIds.map((id) => byOrganization.get(id));
  }

  /** Which of `userIds` share an organization with `userId`. */
  async sharingAnOrganizationWith(userId: string, userIds: readonly string[]): Promise<Set<string>> {
    const rows = (await this.manager.query(
      `SELECT DISTINCT theirs.user_id
         FROM memberships mine
         JOIN memberships theirs ON theirs.organization_id = mine.organization_id
        WHERE mine.user_id = $1 AND theirs.user_id = ANY($2::uuid[])`,
      [userId, userIds],
    )) as { user_id: string }[];
    return new Set(rows.map((row) => row.user_id));
  }

  /** Oldest first; a page per organization in one statement. */
  pages(organizationIds: readonly string[], page: PageRequest): Promise<Connection<MembershipEntity>[]> {
    const list = {
      entity: MembershipEntity,
      alias: 'm',
      parent: 'organization_id',
      order: { column: 'created_at', kind: 'timestamp', descending: false },
    } as const;
    return loadKeysetPages(this.manager, list, organizationIds, page);
  }
}
