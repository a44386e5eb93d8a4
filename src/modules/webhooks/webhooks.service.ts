import type { DataSource } from 'typeorm';
import { BadUserInputError, NotFoundError } from '../../platform/errors';
import { defineConsumer, type EventConsumer, type EventHandler } from '../../platform/events/event';
import { LoaderKey, requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { ChildPageLoader, connectionsByParent, decodeCursor, pageSize, type ChildPageRow, type Connection, type PageRequest } from '../../platform/pagination';
import { ORGANIZATION_EVENT_TYPES, Role, type OrganizationAccess } from '../organizations';
import { PROJECT_EVENT_TYPES } from '../projects';
import { assertPublicHost } from './address-guard';
import type { SecretBox } from './secret-box';
import { newWebhookSecret } from './signature';
import { WebhookDeliveryEntity, WebhookDeliveryStatus, WebhookEndpointEntity } from './webhook.entities';
import type { CreateWebhookEndpointInput } from './webhook.types';

export const WEBHOOK_EVENT_TYPES: readonly string[] = [...ORGANIZATION_EVENT_TYPES, ...PROJECT_EVENT_TYPES];

export interface WebhookPolicy {
  allowPrivateNetworks: boolean;
  /** Hosts reachable over plain http. */
  httpHosts: string[];
}

type DeliveryRow = WebhookDeliveryEntity & { createdAtKey: string };

export class WebhooksService {
  private readonly deliveryPages: LoaderKey<ChildPageLoader<string, DeliveryRow>>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly access: OrganizationAccess,
    private readonly secrets: SecretBox,
    private readonly policy: WebhookPolicy,
    private readonly onDeliveriesCreated: () => void,
  ) {
    this.deliveryPages = new LoaderKey('webhooks.deliveryPages', () => new ChildPageLoader((ids, page) => this.loadDeliveryPages(ids, page)));
  }

  /** ADMIN+. The URL is checked (scheme, host, resolved addresses) and the secret generated; it is returned this once. */
  async create(ctx: RequestContext, input: CreateWebhookEndpointInput): Promise<{ endpoint: WebhookEndpointEntity; secret: string }> {
    const userId = requireUserId(ctx);
    const organizationId = parseId(input.organizationId, 'organizationId');
    await this.access.require(ctx, organizationId, Role.ADMIN);
    const url = await this.checkUrl(input.url);
    const unknown = input.eventTypes.filter((type) => !WEBHOOK_EVENT_TYPES.includes(type));
    if (unknown.length > 0) {
      throw BadUserInputError.field('eventTypes', `Unknown event types: ${unknown.join(', ')}; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`);
    }
    const secret = newWebhookSecret();
    const repository = this.dataSource.getRepository(WebhookEndpointEntity);
    const endpoint = repository.create({
      organizationId,
      url,
      eventTypes: [...new Set(input.eventTypes)],
      secretSealed: this.secrets.seal(secret),
      active: true,
      disabledReason: null,
      createdById: userId,
    });
    await repository.insert(endpoint);
    return { endpoint, secret };
  }

  /** ADMIN+; its deliveries go with it. */
  async delete(ctx: RequestContext, id: string): Promise<boolean> {
    const endpoint = await this.requireEndpoint(ctx, parseId(id, 'id'));
    await this.dataSource.getRepository(WebhookEndpointEntity).delete(endpoint.id);
    return true;
  }

  /** ADMIN+; oldest first. */
  async list(ctx: RequestContext, organizationId: string): Promise<WebhookEndpointEntity[]> {
    const orgId = parseId(organizationId, 'organizationId');
    await this.access.require(ctx, orgId, Role.ADMIN);
    return this.dataSource.getRepository(WebhookEndpointEntity).find({ where: { organizationId: orgId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** ADMIN+; sends the delivery again now, whatever its state; if that fails, it is retried while attempts remain. */
  async redeliver(ctx: RequestContext, deliveryId: string): Promise<WebhookDeliveryEntity> {
    requireUserId(ctx);
    const id = parseId(deliveryId, 'deliveryId');
    const delivery = await this.dataSource.getRepository(WebhookDeliveryEntity).findOneBy({ id });
    if (!delivery || !(await this.access.viewerMembership(ctx, delivery.organizationId))) throw new NotFoundError('Webhook delivery');
    await this.access.require(ctx, delivery.organizationId, Role.ADMIN);
    await this.dataSource.getRepository(WebhookDeliveryEntity).update(id, { status: WebhookDeliveryStatus.PENDING, nextAttemptAt: () => 'now()', lockedUntil: null });
    this.onDeliveriesCreated();
    return this.dataSource.getRepository(WebhookDeliveryEntity).findOneByOrFail({ id });
  }

  /** Newest first; the deliveries of every endpoint in one response load in one statement. */
  deliveries(ctx: RequestContext, endpointId: string, first?: number, after?: string | null): Promise<Connection<WebhookDeliveryEntity>> {
    const page = { size: pageSize(first), after: after ? decodeCursor(after, ['timestamp', 'uuid']) : undefined };
    return ctx.loaders.get(this.deliveryPages).load(endpointId, page);
  }

  /** The webhooks consumer: each event becomes a delivery row per active endpoint that wants it, with the "handled" record. */
  consumer(): EventConsumer {
    const fanOut: EventHandler = async (event, { transaction }) => {
      if (!event.organizationId) return;
      const { id, type, occurredAt, organizationId, actorId, requestId, subject, data } = event;
      const payload = JSON.stringify({
        type,
        timestamp: occurredAt.toISOString(),
        data: { id, occurredAt: occurredAt.toISOString(), organizationId, actorId, requestId, subject, ...(data as object) },
      });
      const rows = await transaction((manager) =>
        manager.query(
          `INSERT INTO webhook_deliveries (endpoint_id, organization_id, event_id, event_type, payload, next_attempt_at)
           SELECT id, organization_id, $2, $3, $4, now() FROM webhook_endpoints
            WHERE organization_id = $1 AND active AND $3 = ANY(event_types)
           ON CONFLICT (endpoint_id, event_id) DO NOTHING
           RETURNING id`,
          [organizationId, id, type, payload],
        ) as Promise<unknown[]>,
      );
      if (rows.length > 0) this.onDeliveriesCreated();
    };
    return defineConsumer('webhooks', Object.fromEntries(WEBHOOK_EVENT_TYPES.map((type) => [type, fanOut])));
  }

  private async requireEndpoint(ctx: RequestContext, id: string): Promise<WebhookEndpointEntity> {
    requireUserId(ctx);
    const endpoint = await this.dataSource.getRepository(WebhookEndpointEntity).findOneBy({ id });
    if (!endpoint || !(await this.access.viewerMembership(ctx, endpoint.organizationId))) throw new NotFoundError('Webhook endpoint');
    await this.access.require(ctx, endpoint.organizationId, Role.ADMIN);
    return endpoint;
  }

  /** https, or http to an allowed host; no credentials; a host that resolves only to public addresses unless private ones are allowed. */
  private async checkUrl(raw: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw.trim());
    } catch {
      throw BadUserInputError.field('url', 'url must be an absolute https URL');
    }
    const host = url.hostname.toLowerCase();
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.policy.httpHosts.includes(host))) {
      throw BadUserInputError.field('url', 'url must use https (plain http only to the hosts in WEBHOOK_HTTP_HOSTS)');
    }
    if (url.username || url.password) throw BadUserInputError.field('url', 'url must not carry credentials; verify the signature instead');
    if (!this.policy.allowPrivateNetworks) {
      try {
        await assertPublicHost(host);
      } catch (error) {
        const reason = error instanceof Error && error.name === 'ForbiddenDestinationError' ? error.message : `${host} cannot be resolved`;
        throw BadUserInputError.field('url', `url is not allowed: ${reason}`);
      }
    }
    return url.toString();
  }

  private async loadDeliveryPages(endpointIds: readonly string[], page: PageRequest): Promise<Connection<DeliveryRow>[]> {
    const [afterKey, afterId] = page.after ?? [null, null];
    const rows = (await this.dataSource.query(
      `SELECT e.id AS "parentId", counts.total, d.*
         FROM unnest($1::uuid[]) AS e(id)
        CROSS JOIN LATERAL (SELECT count(*)::int AS total FROM webhook_deliveries WHERE endpoint_id = e.id) counts
         LEFT JOIN LATERAL (
              SELECT id, event_id AS "eventId", event_type AS "eventType", status, attempts, last_response_status AS "lastResponseStatus",
                     last_error AS "lastError", next_attempt_at AS "nextAttemptAt", created_at AS "createdAt", created_at::text AS "createdAtKey"
                FROM webhook_deliveries
               WHERE endpoint_id = e.id AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
               ORDER BY created_at DESC, id DESC
               LIMIT $4) d ON true`,
      [endpointIds, afterKey, afterId, page.size + 1],
    )) as ChildPageRow<DeliveryRow>[];
    return connectionsByParent(endpointIds, rows, page.size, (row) => [row.createdAtKey, row.id]);
  }
}
