import { insertRow } from '../../platform/database/entity-columns';
import type { EntityManager } from 'typeorm';

import { loadKeysetPages } from '../../platform/database/keyset-pages';
import type { Connection, PageRequest } from '../../platform/pagination';
import { CommentEntity } from './comment.entity';

/** Every statement about comments. */
export class CommentsRepository {
  constructor(private readonly manager: EntityManager) {}

  async insert(values: Pick<CommentEntity, 'taskId' | 'organizationId' | 'authorId' | 'body'>): Promise<CommentEntity> {
    return insertRow(this.manager, CommentEntity, values);
  }

  /** Oldest first; a page per task in one statement. */
  pages(taskIds: readonly string[], page: PageRequest): Promise<Connection<CommentEntity>[]> {
    const list = { entity: CommentEntity, alias: 'c', parent: 'task_id', order: { column: 'created_at', kind: 'timestamp', descending: false } } as const;
    return loadKeysetPages(this.manager, list, taskIds, page);
  }
}
