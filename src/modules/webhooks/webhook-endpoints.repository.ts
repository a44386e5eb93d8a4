import { insertRow } from '../../platform/database/entity-columns';
import type { EntityManager } from 'typeorm';
import { WebhookEndpointEntity } from './webhook.entities';

/** Every statement about webhook endpoints. */
export class WebhookEndpointsRepository {
  constructor(private readonly manager: EntityManager) {}

  async byId(id: string): Promise<WebhookEndpointEntity | undefined> {
    return (await this.manager.findOneBy(WebhookEndpointEntity, { id })) ?? undefined;
  }

  /** Oldest first. */
  ofOrganization(organizationId: string): Promise<WebhookEndpointEntity[]> {
    return this.manager.find(WebhookEndpointEntity, { where: { organizationId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async insert(values: Pick<WebhookEndpointEntity, 'organizationId' | 'url' | 'eventTypes' | 'secretSealed' | 'createdById'>): Promise<WebhookEndpointEntity> {
    return insertRow(this.manager, WebhookEndpointEntity, { ...values, active: true, disabledReason: null });
  }

  /** Its deliveries go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<void> {
    await this.manager.delete(WebhookEndpointEntity, id);
  }

  /** Stops the endpoint a delivery goes to from receiving more (the receiver said it is gone). */
  async disableForDelivery(deliveryId: string, reason: string): Promise<void> {
    await this.manager.query(`UPDATE webhook_endpoints SET active = false, disabled_reason = $2 WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = $1)`, [
      deliveryId,
      reason,
    ]);
  }
}
