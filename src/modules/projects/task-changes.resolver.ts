import { Arg, Ctx, FieldResolver, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { RequestContext } from '../../platform/graphql/context';
import type { LiveRequest } from '../../platform/live/live-hub';
import { User, type IdentityService } from '../identity';
import { TaskChange } from './task-change.types';

@Resolver(() => TaskChange)
export class TaskChangeResolver {
  constructor(private readonly identity: IdentityService) {}

  @Subscription(() => TaskChange, {
    topics: 'taskChanged',
    topicId: ({ args, context }): LiveRequest => ({
      context: context as RequestContext,
      argument: (args as { projectId: string }).projectId,
    }),
    description:
      "Over WebSocket: the project's tasks as they are created, updated, assigned, deleted and commented on. Members of its organization; ends with FORBIDDEN when the viewer stops being one.",
  })
  taskChanged(@Arg('projectId', () => ID) _projectId: string, @Root() change: TaskChange): TaskChange {
    return change;
  }

  @FieldResolver(() => User, { nullable: true, description: 'Who made the change; null for the system.' })
  async actor(@Root() change: TaskChange, @Ctx() ctx: RequestContext): Promise<User | null> {
    return change.actorId ? ((await this.identity.findById(ctx, change.actorId)) ?? null) : null;
  }
}
