export { webhooksModule, type WebhooksDeps } from './webhooks.module';
export { verifyWebhookSignature, type WebhookHeaders } from './signature';
export { WebhookEndpoint, WebhookDelivery, WebhookDeliveryStatus } from './webhook.types';
