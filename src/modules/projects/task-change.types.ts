import { JSONResolver } from 'graphql-scalars';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Comment, Task } from './project.types';

export enum TaskChangeKind {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
  ASSIGNED = 'ASSIGNED',
  DELETED = 'DELETED',
  COMMENTED = 'COMMENTED',
}

registerEnumType(TaskChangeKind, {
  name: 'TaskChangeKind',
  description: 'What happened to a task: the event type it comes from (task.created ... comment.added).',
});

@ObjectType({ description: 'One change to a task of a project, as taskChanged delivers it.' })
export class TaskChange {
  @Field(() => TaskChangeKind)
  kind: TaskChangeKind;

  @Field(() => ID, { description: "The domain event's id (the same as an AuditEvent's and a webhook delivery's)." })
  eventId: string;

  @Field(() => ID)
  taskId: string;

  @Field(() => ID)
  projectId: string;

  @Field(() => Date)
  occurredAt: Date;

  @Field(() => Task, {
    nullable: true,
    description: 'The task as it is when the change is delivered; null once deleted.',
  })
  task: Task | null;

  @Field(() => JSONResolver, {
    nullable: true,
    description:
      'What changed, each field from and to: UPDATED the fields the update changed, ASSIGNED { assigneeId }, CREATED every field; null for DELETED and COMMENTED.',
  })
  changes: Record<string, unknown> | null;

  @Field(() => Comment, { nullable: true, description: 'COMMENTED: the new comment (null if deleted since).' })
  comment: Comment | null;

  actorId: string | null;
}
