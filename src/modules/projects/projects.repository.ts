import { insertRow } from '../../platform/database/entity-columns';
import type { EntityManager } from 'typeorm';

import { loadKeysetPagesOf } from '../../platform/database/keyset-pages';
import { loadByIds } from '../../platform/database/load-by-ids';
import { likePattern, type SqlParameters } from '../../platform/database/sql';
import type { Connection, PageRequest } from '../../platform/pagination';
import { membershipSql } from '../organizations';
import { ProjectEntity, ProjectStatus } from './project.entity';
import type { ProjectFilter } from './project.inputs';

/** Every statement about projects. */
export class ProjectsRepository {
  constructor(private readonly manager: EntityManager) {}

  byIds(ids: readonly string[]): Promise<(ProjectEntity | undefined)[]> {
    return loadByIds(this.manager, ProjectEntity, ids);
  }

  async insert(values: Pick<ProjectEntity, 'organizationId' | 'name' | 'description'>): Promise<ProjectEntity> {
    return insertRow(this.manager, ProjectEntity, { ...values, status: ProjectStatus.ACTIVE });
  }

  update(project: ProjectEntity, values: Partial<ProjectEntity>): Promise<ProjectEntity> {
    return this.manager.save(ProjectEntity, { ...project, ...values });
  }

  /** The project, locked until the transaction ends against every other write of it (archiving, say). */
  async lockForUpdate(id: string): Promise<ProjectEntity | undefined> {
    return (
      (await this.manager.findOne(ProjectEntity, { where: { id }, lock: { mode: 'pessimistic_write' } })) ?? undefined
    );
  }

  /** The project's status, held (FOR SHARE) until the transaction ends: it cannot be archived under a write to its tasks. */
  async lockStatus(id: string): Promise<ProjectStatus | undefined> {
    const rows = (await this.manager.query('SELECT status FROM projects WHERE id = $1 FOR SHARE', [id])) as {
      status: ProjectStatus;
    }[];
    return rows[0]?.status;
  }

  /**
   * Newest first, filtered by status and a name substring; a page per
   * organization that `userId` is a member of, in one statement that checks
   * the membership too: undefined for an organization they are not a member of.
   */
  pagesForMember(
    userId: string,
    organizationIds: readonly string[],
    page: PageRequest,
    filter?: ProjectFilter | null,
  ): Promise<(Connection<ProjectEntity> | undefined)[]> {
    const list = {
      entity: ProjectEntity,
      alias: 'p',
      parent: 'organization_id',
      order: { column: 'created_at', kind: 'timestamp', descending: true },
    } as const;
    const where = (params: SqlParameters) => {
      const conditions: string[] = [];
      if (filter?.status) conditions.push(`p.status = ${params.add(filter.status, '::text')}`);
      const search = filter?.search?.trim();
      if (search) conditions.push(`p.name ILIKE ${params.add(likePattern(search))}`);
      return conditions;
    };
    return loadKeysetPagesOf(this.manager, list, organizationIds, page, where, (organizationId, params) =>
      membershipSql(organizationId, params.add(userId, '::uuid')),
    );
  }
}
