import { randomUUID } from 'node:crypto';
import { insertRow, selectList } from '../../platform/database/entity-columns';
import type { EntityManager } from 'typeorm';

import { loadKeysetPages } from '../../platform/database/keyset-pages';
import { prepared } from '../../platform/database/prepared-statements';
import { STATEMENT_EVENT_COLUMNS, statementEventArrays, type StatementEvent } from '../../platform/events/outbox';
import { WriteBatches } from '../../platform/database/write-batches';
import { loadByIds } from '../../platform/database/load-by-ids';
import type { Connection, PageRequest } from '../../platform/pagination';
import { membershipSql } from '../organizations';
import { CommentEntity } from './comment.entity';
import { ProjectStatus } from './project.entity';
import type { ProjectEvents } from './project.events';

/** A comment as `insertOnWritableTask` stores it, with its task's project (for the event). */
export type InsertedComment = CommentEntity & { projectId: string };

/** A comment to write, with the id it will have and its event. */
type CommentWrite = Pick<CommentEntity, 'id' | 'taskId' | 'authorId' | 'body'> & {
  event: StatementEvent<ProjectEvents['comment.added']>;
};

/** Every statement about comments. */
export class CommentsRepository {
  /** The group commit of insertOnWritableTask: made on first use, by the repository outside transactions. */
  private batches: WriteBatches<CommentWrite, InsertedComment> | undefined;

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
   * Outside a transaction, the comments that requests ask for in one pass of
   * the event loop are written by one such statement (WriteBatches): a
   * group commit.
   * undefined when any check fails (then nothing is written): the caller asks why.
   */
  insertOnWritableTask(
    values: Pick<CommentEntity, 'taskId' | 'authorId' | 'body'>,
    event: StatementEvent<ProjectEvents['comment.added']>,
  ): Promise<InsertedComment | undefined> {
    const write = { ...values, id: randomUUID(), event };
    if (this.manager.queryRunner) return this.insertAll([write]).then((rows) => rows[0]);
    this.batches ??= new WriteBatches((writes) => this.insertAll(writes));
    return this.batches.run(write);
  }

  /** Comments written through the batches: statements and comments, for the tests. */
  get batchCounts(): { statements: number; inputs: number } {
    return { statements: this.batches?.statements ?? 0, inputs: this.batches?.inputs ?? 0 };
  }

  /** Each write's comment, or undefined where a check failed: see insertOnWritableTask. */
  private async insertAll(writes: readonly CommentWrite[]): Promise<(InsertedComment | undefined)[]> {
    // $1-$4 the comments, $5 the archived status, then the events' own values and the outbox's two.
    const events = statementEventArrays(
      writes.map(({ event }) => event),
      6,
    );
    // Every event of the statement is a comment.added: the first one's insertSql writes them all.
    const outbox = writes[0].event.insertSql(
      {
        from: 'inserted JOIN target ON target.comment_id = inserted."id"',
        events: 'target',
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
      6 + events.parameters.length,
    );
    const rows = (await this.manager.query(
      prepared(`WITH target AS (
         SELECT i.*, t.organization_id, t.project_id
           FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], ${events.sql})
                AS i(comment_id, task_id, author_id, body, ${STATEMENT_EVENT_COLUMNS})
           JOIN tasks t ON t.id = i.task_id JOIN projects p ON p.id = t.project_id
          WHERE p.status <> $5 AND ${membershipSql('t.organization_id', 'i.author_id')}
            FOR SHARE OF t, p),
       inserted AS (
         INSERT INTO comments AS c (id, task_id, organization_id, author_id, body)
         SELECT comment_id, task_id, organization_id, author_id, body FROM target
         RETURNING ${selectList(this.manager, CommentEntity, 'c')}),
       event AS (${outbox.sql})
       SELECT inserted.*, target.project_id AS "projectId" FROM inserted JOIN target ON target.comment_id = inserted."id"`),
      [
        writes.map(({ id }) => id),
        writes.map(({ taskId }) => taskId),
        writes.map(({ authorId }) => authorId),
        writes.map(({ body }) => body),
        ProjectStatus.ARCHIVED,
        ...events.parameters,
        ...outbox.parameters,
      ],
    )) as InsertedComment[];
    const byId = new Map(rows.map((row) => [row.id, row]));
    return writes.map(({ id }) => byId.get(id));
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
