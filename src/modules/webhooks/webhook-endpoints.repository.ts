import { insertRow } from '../../platform/database/entity-columns';
import type { EntityManager } from 'typeorm';
import { WebhookEndpointEntity } from './webhook.entities';

/** The secrets sealed under one key: `header` is the sealed value up to its payload (`v2:k1:`, `v1:`). */
export interface SealedUnderKey {
  header: string | null;
  count: number;
  /** One of them, for a trial opening. */
  sample: string;
}

export interface SealedSecret {
  id: string;
  secretSealed: string;
}

/** Every statement about webhook endpoints. */
export class WebhookEndpointsRepository {
  constructor(private readonly manager: EntityManager) {}

  async byId(id: string): Promise<WebhookEndpointEntity | undefined> {
    return (await this.manager.findOneBy(WebhookEndpointEntity, { id })) ?? undefined;
  }

  /** Oldest first. */
  ofOrganization(organizationId: string): Promise<WebhookEndpointEntity[]> {
    return this.manager.find(WebhookEndpointEntity, {
      where: { organizationId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }

  async insert(
    values: Pick<WebhookEndpointEntity, 'organizationId' | 'url' | 'eventTypes' | 'secretSealed' | 'createdById'>,
  ): Promise<WebhookEndpointEntity> {
    return insertRow(this.manager, WebhookEndpointEntity, { ...values, active: true, disabledReason: null });
  }

  /** Its deliveries go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<void> {
    await this.manager.delete(WebhookEndpointEntity, id);
  }

  /** Stops the endpoint a delivery goes to from receiving more (the receiver said it is gone). */
  async disableForDelivery(deliveryId: string, reason: string): Promise<void> {
    await this.manager.query(
      `UPDATE webhook_endpoints SET active = false, disabled_reason = $2 WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = $1)`,
      [deliveryId, reason],
    );
  }

  /** How many secrets each key sealed, with a sample of each: one cheap statement, run at boot. */
  sealedByKey(): Promise<SealedUnderKey[]> {
    return this.manager.query(
      `SELECT header, count(*)::int AS count, min(secret_sealed) AS sample
         FROM (SELECT substring(secret_sealed from '^(.*:)') AS header, secret_sealed FROM webhook_endpoints) sealed
        GROUP BY header ORDER BY header`,
    );
  }

  /** The next page, in id order after `afterId`, of the secrets not sealed under the key of `prefix`. */
  sealedOtherwise(prefix: string, afterId: string | null, limit: number): Promise<SealedSecret[]> {
    return this.manager.query(
      `SELECT id, secret_sealed AS "secretSealed" FROM webhook_endpoints
        WHERE NOT starts_with(secret_sealed, $1) AND ($2::uuid IS NULL OR id > $2::uuid)
        ORDER BY id LIMIT $3`,
      [prefix, afterId, limit],
    );
  }

  /** Swaps each secret for its re-sealed value in one statement, where it is still `from` (a concurrent change wins); the ids swapped. */
  async replaceSealed(changes: { id: string; from: string; to: string }[]): Promise<string[]> {
    if (changes.length === 0) return [];
    const [rows] = (await this.manager.query(
      `UPDATE webhook_endpoints AS e SET secret_sealed = c.to_sealed
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS c(id, from_sealed, to_sealed)
        WHERE e.id = c.id AND e.secret_sealed = c.from_sealed
        RETURNING e.id`,
      [changes.map((change) => change.id), changes.map((change) => change.from), changes.map((change) => change.to)],
    )) as [{ id: string }[], number];
    return rows.map((row) => row.id);
  }
}
