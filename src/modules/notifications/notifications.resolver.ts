import {
  Arg,
  Args,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { NotFoundError } from '../../platform/errors';
import type { RequestContext } from '../../platform/graphql/context';
import type { LiveRequest } from '../../platform/live/live-hub';
import { PageArgs, type Connection } from '../../platform/pagination';
import { Task, type TasksService } from '../projects';
import { Notification, NotificationConnection } from './notification.types';
import type { NotificationsService } from './notifications.service';

@Resolver(() => Notification)
export class NotificationResolver {
  constructor(
    private readonly notificationsService: NotificationsService,
    private readonly tasks: TasksService,
  ) {}

  @Authorized()
  @Query(() => NotificationConnection, {
    description:
      "The viewer's own, from the organizations they are a member of now, newest first; `first` is 1 to 100.",
  })
  notifications(
    @Ctx() ctx: RequestContext,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('unreadOnly', () => Boolean, { nullable: true, defaultValue: false }) unreadOnly: boolean,
  ): Promise<Connection<Notification>> {
    return this.notificationsService.list(ctx, page, unreadOnly);
  }

  @Authorized()
  @Mutation(() => Int, {
    description:
      "How many were marked; ids of others' notifications, of already read ones and of organizations the viewer left are ignored. At most 100 ids.",
  })
  markNotificationsRead(@Ctx() ctx: RequestContext, @Arg('ids', () => [ID]) ids: string[]): Promise<number> {
    return this.notificationsService.markRead(ctx, ids);
  }

  @Authorized()
  @Subscription(() => Notification, {
    topics: 'notificationAdded',
    topicId: ({ context }): LiveRequest => ({ context: context as RequestContext }),
    description:
      "Over WebSocket: the viewer's own notifications as they are created, from the organizations they are a member of.",
  })
  notificationAdded(@Root() notification: Notification): Notification {
    return notification;
  }

  @FieldResolver(() => Task, {
    nullable: true,
    description: 'Null once the task is deleted or the viewer left its organization.',
  })
  async task(@Root() notification: Notification, @Ctx() ctx: RequestContext): Promise<Task | null> {
    if (!notification.taskId) return null;
    try {
      return await this.tasks.require(ctx, notification.taskId);
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }
}
