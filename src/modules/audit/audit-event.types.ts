import { IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { JSONResolver } from 'graphql-scalars';
import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { connectionType } from '../../platform/pagination';

@ObjectType({ description: 'A domain event as the audit log keeps it. Append-only: nothing changes or deletes it.' })
export class AuditEvent {
  @Field(() => ID, { description: "The event's id (the same as a webhook delivery's eventId)." })
  id: string;

  @Field(() => String, { description: 'The event type, e.g. task.assigned.' })
  type: string;

  @Field(() => String)
  subjectType: string;

  @Field(() => ID)
  subjectId: string;

  @Field(() => JSONResolver)
  data: unknown;

  @Field(() => String, {
    nullable: true,
    description: 'The id of the request that caused it, as in the logs and the x-request-id header.',
  })
  requestId: string | null;

  @Field(() => Date)
  occurredAt: Date;

  actorId: string | null;
  organizationId: string | null;
}

export const AuditEventConnection = connectionType('AuditEvent', AuditEvent);

@InputType()
export class AuditEventFilter {
  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  type?: string;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'actorId must be a UUID' })
  actorId?: string;

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'subjectId must be a UUID' })
  subjectId?: string;
}
