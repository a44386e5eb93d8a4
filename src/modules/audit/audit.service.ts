import type { DataSource } from 'typeorm';
import { SqlParameters } from '../../platform/database/sql';
import { defineConsumer, type EventConsumer, type EventHandler } from '../../platform/events/event';
import type { RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../platform/pagination';
import { ORGANIZATION_EVENT_TYPES, Role, type OrganizationAccess } from '../organizations';
import { PROJECT_EVENT_TYPES } from '../projects';
import type { AuditEventEntity } from './audit-event.entity';
import type { AuditEventFilter } from './audit-event.types';

type AuditRow = AuditEventEntity & { occurredAtKey: string; total: number };

/** Every event type the audit log records: all that the modules publish. */
export const AUDITED_EVENT_TYPES = [...ORGANIZATION_EVENT_TYPES, ...PROJECT_EVENT_TYPES];

export class AuditService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: OrganizationAccess,
  ) {}

  /** The audit consumer: one row per event, written with the "handled" record, so a redelivery adds nothing. */
  consumer(): EventConsumer {
    const record: EventHandler = async (event, { transaction }) => {
      if (!event.organizationId) return;
      await transaction((manager) =>
        manager.query(
          `INSERT INTO audit_events (id, organization_id, type, actor_id, subject_type, subject_id, data, request_id, occurred_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
          [event.id, event.organizationId, event.type, event.actorId, event.subject.type, event.subject.id, JSON.stringify(event.data), event.requestId, event.occurredAt],
        ),
      );
    };
    return defineConsumer('audit', Object.fromEntries(AUDITED_EVENT_TYPES.map((type) => [type, record])));
  }

  /** ADMIN+; newest first, filtered by type, actor and subject; one statement for the page and its total. */
  async list(
    ctx: RequestContext,
    organizationId: string,
    first?: number,
    after?: string | null,
    filter?: AuditEventFilter | null,
  ): Promise<Connection<AuditEventEntity>> {
    const orgId = parseId(organizationId, 'organizationId');
    await this.access.require(ctx, orgId, Role.ADMIN);
    const size = pageSize(first);
    const [afterKey, afterId] = after ? decodeCursor(after, ['timestamp', 'uuid']) : [null, null];
    const params = new SqlParameters();
    const conditions = [`organization_id = ${params.add(orgId, '::uuid')}`];
    if (filter?.type) conditions.push(`type = ${params.add(filter.type, '::text')}`);
    if (filter?.actorId) conditions.push(`actor_id = ${params.add(filter.actorId.toLowerCase(), '::uuid')}`);
    if (filter?.subjectId) conditions.push(`subject_id = ${params.add(filter.subjectId.toLowerCase(), '::uuid')}`);
    const afterCondition = afterKey
      ? `WHERE (occurred_at, id) < (${params.add(afterKey, '::timestamptz')}, ${params.add(afterId, '::uuid')})`
      : '';
    const rows = (await this.dataSource.query(
      `WITH filtered AS (SELECT * FROM audit_events WHERE ${conditions.join(' AND ')})
       SELECT id, organization_id AS "organizationId", type, actor_id AS "actorId", subject_type AS "subjectType", subject_id AS "subjectId",
              data, request_id AS "requestId", occurred_at AS "occurredAt", occurred_at::text AS "occurredAtKey",
              (SELECT count(*)::int FROM filtered) AS total
         FROM filtered ${afterCondition}
        ORDER BY occurred_at DESC, id DESC
        LIMIT ${params.add(size + 1, '::int')}`,
      params.values,
    )) as AuditRow[];
    const total = rows[0]?.total ?? (after ? await this.count(conditions, params) : 0);
    return toConnection<AuditRow>(rows, size, total, (row) => [row.occurredAtKey, row.id]);
  }

  private async count(conditions: string[], params: SqlParameters): Promise<number> {
    const [row] = (await this.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE ${conditions.join(' AND ')}`, params.values.slice(0, conditions.length))) as [
      { n: number },
    ];
    return row.n;
  }
}
