import { defineModule, type PlatformDeps } from '../../platform/module';
import type { OrganizationAccess } from '../organizations';
import { checkStoredKeys } from './endpoint-secrets';
import { SecretBox } from './secret-box';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookDeliveryEntity, WebhookEndpointEntity } from './webhook.entities';
import { WebhookEndpointResolver } from './webhooks.resolver';
import { WebhooksService } from './webhooks.service';
import { Webhooks1795579300002 } from './migrations/1795579300002-webhooks';
import { WebhookTraceContext1796420000001 } from './migrations/1796420000001-webhook-trace-context';

export interface WebhooksDeps extends PlatformDeps {
  access: OrganizationAccess;
}

/** Signed, retried HTTP deliveries of domain events to the endpoints organizations register. */
export const webhooksModule = defineModule<WebhooksDeps, Record<string, never>>({
  name: 'webhooks',
  entities: [WebhookEndpointEntity, WebhookDeliveryEntity],
  migrations: [Webhooks1795579300002, WebhookTraceContext1796420000001],
  resolvers: [WebhookEndpointResolver],
  build({ config, uow, eventTypes, logger, access }) {
    const secrets = SecretBox.fromConfig(config);
    const dispatcher = new WebhookDispatcher(
      uow,
      secrets,
      {
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
        scheduleMs: config.webhookRetryScheduleMs,
        allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
        pollIntervalMs: config.WEBHOOK_POLL_INTERVAL_MS,
        concurrency: config.WEBHOOK_CONCURRENCY,
      },
      logger,
    );
    const webhooks = new WebhooksService(
      uow,
      access,
      secrets,
      { allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS, httpHosts: config.webhookHttpHosts },
      eventTypes,
      () => dispatcher.loop.wake(),
    );
    return {
      resolvers: [new WebhookEndpointResolver(webhooks)],
      exports: {},
      consumers: [webhooks.consumer()],
      workers: [dispatcher.loop],
      startupChecks: [() => checkStoredKeys(uow, secrets, logger)],
    };
  },
});
