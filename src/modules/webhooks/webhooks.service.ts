import type { UnitOfWork } from '../../platform/database/unit-of-work';
import type { EventTypes } from '../../platform/events/catalog';
import { defineBatchConsumer, type DomainEvent, type EventConsumer } from '../../platform/events/event';
import { BadUserInputError } from '../../platform/errors';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import type { EventTypeInfo } from '../../platform/graphql/event-types';
import { parseId } from '../../platform/ids';
import { traceparentFor } from '../../platform/telemetry/spans';
import {
  childPagesLoader,
  pageRequest,
  type Connection,
  type PageArgs,
  type PageRequest,
} from '../../platform/pagination';
import { Role, type OrganizationAccess } from '../organizations';
import { assertPublicHost } from './address-guard';
import type { SecretBox } from './secret-box';
import { newWebhookSecret } from './signature';
import { WebhookDeliveriesRepository, type DeliverySummary, type OutgoingEvent } from './webhook-deliveries.repository';
import { WebhookEndpointsRepository } from './webhook-endpoints.repository';
import type { WebhookDeliveryEntity, WebhookEndpointEntity } from './webhook.entities';
import type { CreateWebhookEndpointInput } from './webhook.types';

export interface WebhookPolicy {
  allowPrivateNetworks: boolean;
  /** Hosts reachable over plain http. */
  httpHosts: string[];
}

export class WebhooksService {
  private readonly deliveryPages = childPagesLoader(
    'webhooks.deliveryPages',
    (ids: readonly string[], page: PageRequest) => this.uow.get(WebhookDeliveriesRepository).pages(ids, page),
  );

  constructor(
    private readonly uow: UnitOfWork,
    private readonly access: OrganizationAccess,
    private readonly secrets: SecretBox,
    private readonly policy: WebhookPolicy,
    private readonly eventTypes: EventTypes,
    private readonly onDeliveriesCreated: () => void,
  ) {}

  /** The event types an endpoint may subscribe to: those the modules' catalogs expose to webhooks. */
  webhookEventTypes(): EventTypeInfo[] {
    return this.eventTypes.webhookTypes.map((type) => ({
      name: type,
      type,
      description: this.eventTypes.get(type)?.description ?? '',
    }));
  }

  /** ADMIN+. The URL is checked (scheme, host, resolved addresses) and the secret generated; it is returned this once. */
  async create(
    ctx: RequestContext,
    input: CreateWebhookEndpointInput,
  ): Promise<{ endpoint: WebhookEndpointEntity; secret: string }> {
    const userId = requireUserId(ctx);
    const organizationId = parseId(input.organizationId, 'organizationId');
    await this.access.require(ctx, organizationId, Role.ADMIN);
    const url = await this.checkUrl(input.url);
    const known = this.eventTypes.webhookTypes;
    const unknown = input.eventTypes.filter((type) => !known.includes(type));
    if (unknown.length > 0) {
      throw BadUserInputError.field(
        'eventTypes',
        `Unknown event types: ${unknown.join(', ')}; known: ${known.join(', ')}`,
      );
    }
    const secret = newWebhookSecret();
    const endpoint = await this.uow.get(WebhookEndpointsRepository).insert({
      organizationId,
      url,
      eventTypes: [...new Set(input.eventTypes)],
      secretSealed: this.secrets.seal(secret),
      createdById: userId,
    });
    return { endpoint, secret };
  }

  /** ADMIN+; its deliveries go with it. */
  async delete(ctx: RequestContext, id: string): Promise<boolean> {
    const endpoints = this.uow.get(WebhookEndpointsRepository);
    const endpoint = await this.access.requireVisible(
      ctx,
      'Webhook endpoint',
      await endpoints.byId(parseId(id, 'id')),
      Role.ADMIN,
    );
    await endpoints.delete(endpoint.id);
    return true;
  }

  /** ADMIN+; oldest first. */
  async list(ctx: RequestContext, organizationId: string): Promise<WebhookEndpointEntity[]> {
    const orgId = parseId(organizationId, 'organizationId');
    await this.access.require(ctx, orgId, Role.ADMIN);
    return this.uow.get(WebhookEndpointsRepository).ofOrganization(orgId);
  }

  /** ADMIN+; sends the delivery again now, whatever its state; if that fails, it is retried while attempts remain. */
  async redeliver(ctx: RequestContext, deliveryId: string): Promise<WebhookDeliveryEntity> {
    const deliveries = this.uow.get(WebhookDeliveriesRepository);
    const delivery = await this.access.requireVisible(
      ctx,
      'Webhook delivery',
      await deliveries.byId(parseId(deliveryId, 'deliveryId')),
      Role.ADMIN,
    );
    const rescheduled = await deliveries.reschedule(delivery.id);
    this.onDeliveriesCreated();
    return rescheduled;
  }

  /** Newest first; the deliveries of every endpoint in one response load in one statement. */
  deliveries(ctx: RequestContext, endpointId: string, args: PageArgs): Promise<Connection<DeliverySummary>> {
    return ctx.loaders.get(this.deliveryPages).load(endpointId, pageRequest(args, ['timestamp', 'uuid']));
  }

  /** The webhooks consumer of every type the catalogs expose: a delivery row per active endpoint that wants it, written in batches with the "handled" records. */
  consumer(): EventConsumer {
    return defineBatchConsumer('webhooks', this.eventTypes.webhookTypes, async (events, { transaction }) => {
      if (!events.some((event) => event.organizationId)) return;
      const created = await transaction((tx, fresh) =>
        tx
          .get(WebhookDeliveriesRepository)
          .fanOut(fresh.flatMap((event) => (event.organizationId ? [outgoing(event, event.organizationId)] : []))),
      );
      if (created > 0) this.onDeliveriesCreated();
    });
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
    if (url.username || url.password)
      throw BadUserInputError.field('url', 'url must not carry credentials; verify the signature instead');
    if (!this.policy.allowPrivateNetworks) {
      try {
        await assertPublicHost(host);
      } catch (error) {
        const reason =
          error instanceof Error && error.name === 'ForbiddenDestinationError'
            ? error.message
            : `${host} cannot be resolved`;
        throw BadUserInputError.field('url', `url is not allowed: ${reason}`);
      }
    }
    return url.toString();
  }
}

/** The event as endpoints receive it: the Standard Webhooks body, `data` carrying the envelope and the payload. */
function outgoing(event: DomainEvent, organizationId: string): OutgoingEvent {
  const { id, type, occurredAt, actorId, requestId, subject, data } = event;
  const timestamp = new Date(occurredAt).toISOString();
  const payload = JSON.stringify({
    type,
    timestamp,
    data: { id, occurredAt: timestamp, organizationId, actorId, requestId, subject, ...(data as object) },
  });
  return { id, type, organizationId, payload, traceparent: traceparentFor(event.traceparent) };
}
