import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Info, Mutation, Query, Resolver, Root } from 'type-graphql';
import { NOT_LOADED } from '../../platform/database/load-by-ids';
import { NotFoundError } from '../../platform/errors';
import { selects } from '../../platform/graphql/selection';
import type { RequestContext } from '../../platform/graphql/context';
import { PageArgs, selectsTotalCount, type Connection } from '../../platform/pagination';
import { User, type IdentityService } from '../identity';
import type { CommentsService } from './comments.service';
import { AddCommentInput, CreateTaskInput, UpdateTaskInput } from './project.inputs';
import { Comment, CommentConnection, Project, Task, type CommentParent, type TaskParent } from './project.types';
import type { ProjectsService } from './projects.service';
import type { TasksService } from './tasks.service';

@Resolver(() => Task)
export class TaskResolver {
  constructor(
    private readonly tasks: TasksService,
    private readonly projects: ProjectsService,
    private readonly commentsService: CommentsService,
    private readonly identity: IdentityService,
  ) {}

  @Query(() => Task, { nullable: true, description: 'NOT_FOUND unless the viewer is a member of its organization.' })
  task(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string, @Info() info: GraphQLResolveInfo): Promise<Task> {
    return this.tasks.get(ctx, id, { withAssignee: selects(info, ['assignee']) });
  }

  @Authorized()
  @Mutation(() => Task, { description: 'The assignee must be a member of the organization (BAD_USER_INPUT).' })
  createTask(@Ctx() ctx: RequestContext, @Arg('input', () => CreateTaskInput) input: CreateTaskInput): Promise<Task> {
    return this.tasks.create(ctx, input);
  }

  @Authorized()
  @Mutation(() => Task, { description: 'A stale expectedVersion is CONFLICT and changes nothing; version += 1.' })
  updateTask(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateTaskInput) input: UpdateTaskInput): Promise<Task> {
    return this.tasks.update(ctx, input);
  }

  @Authorized()
  @Mutation(() => Boolean)
  deleteTask(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return this.tasks.delete(ctx, id);
  }

  @FieldResolver(() => Project)
  async project(@Root() task: TaskParent, @Ctx() ctx: RequestContext): Promise<Project> {
    const project = await this.projects.findById(ctx, task.projectId);
    if (!project) throw new NotFoundError('Project');
    return project;
  }

  // Not async: a user loaded ahead (Project.tasks fetches the page's users) is returned as it is, so graphql-js completes
  // the task without a promise; otherwise the user loads with every other one asked for in the tick.
  @FieldResolver(() => User, { nullable: true })
  assignee(@Root() task: TaskParent, @Ctx() ctx: RequestContext): User | null | Promise<User | null> {
    if (!task.assigneeId) return null;
    const loaded = this.identity.loadedById(ctx, task.assigneeId);
    if (loaded !== NOT_LOADED) return loaded ?? null;
    return this.identity.findById(ctx, task.assigneeId).then((user) => user ?? null);
  }

  @FieldResolver(() => User)
  createdBy(@Root() task: TaskParent, @Ctx() ctx: RequestContext): User | Promise<User> {
    const loaded = this.identity.loadedById(ctx, task.createdById);
    const user = loaded !== NOT_LOADED ? loaded : undefined;
    if (user) return user;
    return this.identity.findById(ctx, task.createdById).then((found) => {
      if (!found) throw new NotFoundError('User');
      return found;
    });
  }

  @FieldResolver(() => CommentConnection, { description: 'Oldest first.' })
  comments(
    @Root() task: TaskParent,
    @Ctx() ctx: RequestContext,
    @Args(() => PageArgs) page: PageArgs,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<Comment>> {
    return this.commentsService.page(ctx, task.id, { ...page, total: selectsTotalCount(info) });
  }
}

@Resolver(() => Comment)
export class CommentResolver {
  constructor(
    private readonly comments: CommentsService,
    private readonly tasks: TasksService,
    private readonly identity: IdentityService,
  ) {}

  @Authorized()
  @Mutation(() => Comment)
  addComment(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => AddCommentInput) input: AddCommentInput,
  ): Promise<Comment> {
    return this.comments.add(ctx, input);
  }

  @FieldResolver(() => User)
  async author(@Root() comment: CommentParent, @Ctx() ctx: RequestContext): Promise<User> {
    const user = await this.identity.findById(ctx, comment.authorId);
    if (!user) throw new NotFoundError('User');
    return user;
  }

  @FieldResolver(() => Task)
  async task(@Root() comment: CommentParent, @Ctx() ctx: RequestContext): Promise<Task> {
    const task = await this.tasks.findById(ctx, comment.taskId);
    if (!task) throw new NotFoundError('Task');
    return task;
  }
}
