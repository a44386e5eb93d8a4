import { insertRow, selectList } from '../../platform/database/entity-columns';
import type { EntityManager } from 'typeorm';

import { loadKeysetPages } from '../../platform/database/keyset-pages';
import { prepared } from '../../platform/database/prepared-statements';
import type { StatementEvent } from '../../platform/events/outbox';
import { loadByIds } from '../../platform/database/load-by-ids';
import type { Connection, PageRequest } from '../../platform/pagination';
import { membershipSql } from '../organizations';
import { CommentEntity } from './comment.entity';
import { ProjectStatus } from './project.entity';
import type { ProjectEvents } from './project.events';

/** A comment as `insertOnWritableTask` stores it, with its task's project (for the event). */
export type InsertedComment = CommentEntity & { projectId: string };

/** Every statement about comments. */
export class CommentsRepository {
  constructor(private readonly manager: EntityManager) {}

  byIds(ids: readonly string[]): Promise<(CommentEntity | undefined)[]> {
    return loadByIds(this.manager, CommentEntity, ids);
  }

  async insert(values: Pick<CommentEntity, 'taskId' | 'organizationId' | 'authorId' | 'body'>): Promise<CommentEntity> {
    return insertRow(this.manager, CommentEntity, values);
  }

  /**
   * The comment and its `comment.added` event, in one statement that also
   * finds the task, checks that the author is a member of its organization
   * and that its project is not archived, and holds the task and the project
   * (FOR SHARE) while it runs, so neither is deleted nor archived under the
   * comment. One statement is its own transaction: the comment and its
   * outbox row are written together or not at all, with no BEGIN or COMMIT.
   * undefined when any check fails (then nothing is written): the caller asks why.
   */
  async insertOnWritableTask(
    values: Pick<CommentEntity, 'taskId' | 'authorId' | 'body'>,
    event: StatementEvent<ProjectEvents['comment.added']>,
  ): Promise<InsertedComment | undefined> {
    const outbox = event.insertSql(
      {
        from: 'inserted, target',
        // The columns as the RETURNING list below names them.
        organizationId: 'inserted."organizationId"',
        subjectType: 'comment',
        subjectId: 'inserted."id"',
        data: {
          taskId: 'inserted."taskId"',
          projectId: 'target.project_id',
          authorId: 'inserted."authorId"',
          body: 'inserted."body"',
        },
      },
      5,
    );
    const rows = (await this.manager.query(
      prepared(`WITH target AS (
         SELECT t.id, t.organization_id, t.project_id
           FROM tasks t JOIN projects p ON p.id = t.project_id
          WHERE t.id = $1 AND p.status <> $4 AND ${membershipSql('t.organization_id', '$2::uuid')}
            FOR SHARE OF t, p),
       inserted AS (
         INSERT INTO comments AS c (task_id, organization_id, author_id, body)
         SELECT id, organization_id, $2, $3 FROM target
         RETURNING ${selectList(this.manager, CommentEntity, 'c')}),
       event AS (${outbox.sql})
       SELECT inserted.*, target.project_id AS "projectId" FROM inserted, target`),
      [values.taskId, values.authorId, values.body, ProjectStatus.ARCHIVED, ...outbox.parameters],
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
