import { Field, ID, ObjectType } from 'type-graphql';
import { connectionType } from '../../platform/pagination';

@ObjectType({
  description: 'Something the viewer should know: they were assigned a task, someone commented on theirs.',
})
export class Notification {
  @Field(() => ID)
  id: string;

  @Field(() => String, { description: 'The event type that caused it, e.g. task.assigned.' })
  type: string;

  @Field(() => String)
  message: string;

  @Field(() => Date, { nullable: true })
  readAt: Date | null;

  @Field(() => Date)
  createdAt: Date;

  taskId: string | null;
}

export const NotificationConnection = connectionType('Notification', Notification);
