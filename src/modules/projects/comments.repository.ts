import { insertRow, selectList } from '../../platform/database/entity-columns';
import type { EntityManager } from 'typeorm';

import { loadKeysetPages } from '../../platform/database/keyset-pages';
import type { Connection, PageRequest } from '../../platform/pagination';
import { membershipSql } from '../organizations';
import { CommentEntity } from './comment.entity';
import { ProjectStatus } from './project.entity';

/** A comment as `insertOnWritableTask` stores it, with its task's project (for the event). */
export type InsertedComment = CommentEntity & { projectId: string };

/** Every statement about comments. */
export class CommentsRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(values: Pick<CommentEntity, 'taskId' | 'organizationId' | 'authorId' | 'body'>): Promise<CommentEntity> {
    return insertRow(this.manager, CommentEntity, values);
  }

  /**
   * The comment, in one statement that also finds the task, checks that the
   * author is a member of its organization and that its project is not
   * archived, and holds the task and the project (FOR SHARE) until the
   * transaction ends, so neither is deleted nor archived under the comment.
   * undefined when any of these fails: the caller asks why.
   */
  async insertOnWritableTask(
    values: Pick<CommentEntity, 'taskId' | 'authorId' | 'body'>,
  ): Promise<InsertedComment | undefined> {
    const rows = (await this.manager.query(
      `WITH target AS (
         SELECT t.id, t.organization_id, t.project_id
           FROM tasks t JOIN projects p ON p.id = t.project_id
          WHERE t.id = $1 AND p.status <> $4 AND ${membershipSql('t.organization_id', '$2::uuid')}
            FOR SHARE OF t, p),
       inserted AS (
         INSERT INTO comments AS c (task_id, organization_id, author_id, body)
         SELECT id, organization_id, $2, $3 FROM target
         RETURNING ${selectList(this.manager, CommentEntity, 'c')})
       SELECT inserted.*, target.project_id AS "projectId" FROM inserted, target`,
      [values.taskId, values.authorId, values.body, ProjectStatus.ARCHIVED],
    )) as InsertedComment[];
    return rows[0];
  }

  /** Oldest first; a page per task in one statement. */
  pages(taskIds: readonly string[], page: PageRequest): Promise<Connection<CommentEntity>[]> {
    const list = {
      entity: CommentEntity,
      alias: 'c',
      parent: 'task_id',
      order: { column: 'created_at', kind: 'timestamp', descending: false },
    } as const;
    return loadKeysetPages(this.manager, list, taskIds, page);
  }
}
