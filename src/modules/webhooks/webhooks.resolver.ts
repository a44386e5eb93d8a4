import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../platform/graphql/context';
import { EventTypeInfo } from '../../platform/graphql/event-types';
import { PageArgs, type Connection } from '../../platform/pagination';
import {
  CreateWebhookEndpointInput,
  WebhookDelivery,
  WebhookDeliveryConnection,
  WebhookEndpoint,
  WebhookEndpointWithSecret,
} from './webhook.types';
import type { WebhooksService } from './webhooks.service';

@Resolver(() => WebhookEndpoint)
export class WebhookEndpointResolver {
  constructor(private readonly webhooks: WebhooksService) {}

  @Query(() => [WebhookEndpoint], { description: 'ADMIN+. Oldest first.' })
  webhookEndpoints(
    @Ctx() ctx: RequestContext,
    @Arg('organizationId', () => ID) organizationId: string,
  ): Promise<WebhookEndpoint[]> {
    return this.webhooks.list(ctx, organizationId);
  }

  @Authorized()
  @Query(() => [EventTypeInfo], {
    description: 'The event types a webhook endpoint may subscribe to (its eventTypes take the `type` of each).',
  })
  webhookEventTypes(): EventTypeInfo[] {
    return this.webhooks.webhookEventTypes();
  }

  @Authorized()
  @Mutation(() => WebhookEndpointWithSecret, { description: 'ADMIN+. The secret is in this answer only.' })
  createWebhookEndpoint(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => CreateWebhookEndpointInput) input: CreateWebhookEndpointInput,
  ): Promise<WebhookEndpointWithSecret> {
    return this.webhooks.create(ctx, input);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'ADMIN+. Its deliveries go with it.' })
  deleteWebhookEndpoint(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return this.webhooks.delete(ctx, id);
  }

  @Authorized()
  @Mutation(() => WebhookDelivery, { description: 'ADMIN+. Sends it again now, whatever its status.' })
  redeliverWebhook(
    @Ctx() ctx: RequestContext,
    @Arg('deliveryId', () => ID) deliveryId: string,
  ): Promise<WebhookDelivery> {
    return this.webhooks.redeliver(ctx, deliveryId);
  }

  @FieldResolver(() => WebhookDeliveryConnection, { description: 'Newest first; `first` is 1 to 100.' })
  deliveries(
    @Root() endpoint: WebhookEndpoint,
    @Ctx() ctx: RequestContext,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Connection<WebhookDelivery>> {
    return this.webhooks.deliveries(ctx, endpoint.id, page);
  }
}
