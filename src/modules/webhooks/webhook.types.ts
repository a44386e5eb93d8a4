import { ArrayMaxSize, ArrayMinSize, IsString, IsUUID, MaxLength } from 'class-validator';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { connectionType } from '../../platform/pagination';
import { WebhookDeliveryStatus } from './webhook.entities';

export { WebhookDeliveryStatus };

registerEnumType(WebhookDeliveryStatus, { name: 'WebhookDeliveryStatus' });

@ObjectType({ description: "Where an organization's events are POSTed, signed (Standard Webhooks)." })
export class WebhookEndpoint {
  @Field(() => ID)
  id: string;

  @Field(() => String)
  url: string;

  @Field(() => [String])
  eventTypes: string[];

  @Field(() => Boolean, { description: 'False once the receiver answered 410 Gone.' })
  active: boolean;

  @Field(() => Date)
  createdAt: Date;

  organizationId: string;
}

@ObjectType({ description: 'The new endpoint and its signing secret, which is shown this once.' })
export class WebhookEndpointWithSecret {
  @Field(() => WebhookEndpoint)
  endpoint: WebhookEndpoint;

  @Field(() => String, { description: '`whsec_` + base64 of 32 random bytes; the HMAC key is the decoded bytes.' })
  secret: string;
}

@ObjectType({ simpleResolvers: true, description: 'One event for one endpoint, with its attempts so far.' })
export class WebhookDelivery {
  @Field(() => ID)
  id: string;

  @Field(() => ID, { description: 'The event id: the webhook-id header, the same on every attempt.' })
  eventId: string;

  @Field(() => String)
  eventType: string;

  @Field(() => WebhookDeliveryStatus)
  status: WebhookDeliveryStatus;

  @Field(() => Int)
  attempts: number;

  @Field(() => Int, { nullable: true })
  lastResponseStatus: number | null;

  @Field(() => String, { nullable: true })
  lastError: string | null;

  @Field(() => Date, { nullable: true })
  nextAttemptAt: Date | null;

  @Field(() => Date)
  createdAt: Date;
}

export const WebhookDeliveryConnection = connectionType('WebhookDelivery', WebhookDelivery);

@InputType()
export class CreateWebhookEndpointInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'organizationId must be a UUID' })
  organizationId: string;

  @Field(() => String, { description: 'https (http only to hosts in WEBHOOK_HTTP_HOSTS); never a private address.' })
  @IsString()
  @MaxLength(2000)
  url: string;

  @Field(() => [String], { description: 'Event types to receive, e.g. ["task.created", "comment.added"].' })
  @IsString({ each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  eventTypes: string[];
}
