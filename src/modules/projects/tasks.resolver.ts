import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { NotFoundError } from '../../platform/errors';
import type { RequestContext } from '../../platform/graphql/context';
import { PageArgs, type Connection } from '../../platform/pagination';
import { User, type IdentityService } from '../identity';
import type { CommentsService } from './comments.service';
import { AddCommentInput, CreateTaskInput, UpdateTaskInput } from './project.inputs';
import { Comment, CommentConnection, Project, Task } from './project.types';
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
  task(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Task> {
    return this.tasks.get(ctx, id);
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
  async project(@Root() task: Task, @Ctx() ctx: RequestContext): Promise<Project> {
    const project = await this.projects.findById(ctx, task.projectId);
    if (!project) throw new NotFoundError('Project');
    return project;
  }

  @FieldResolver(() => User, { nullable: true })
  async assignee(@Root() task: Task, @Ctx() ctx: RequestContext): Promise<User | null> {
    return task.assigneeId ? ((await this.identity.findById(ctx, task.assigneeId)) ?? null) : null;
  }

  @FieldResolver(() => User)
  async createdBy(@Root() task: Task, @Ctx() ctx: RequestContext): Promise<User> {
    const user = await this.identity.findById(ctx, task.createdById);
    if (!user) throw new NotFoundError('User');
    return user;
  }

  @FieldResolver(() => CommentConnection, { description: 'Oldest first.' })
  comments(
    @Root() task: Task,
    @Ctx() ctx: RequestContext,
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
  ): Promise<Connection<Comment>> {
    return this.commentsService.page(ctx, task.id, page);
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
  addComment(@Ctx() ctx: RequestContext, @Arg('input', () => AddCommentInput) input: AddCommentInput): Promise<Comment> {
    return this.comments.add(ctx, input);
  }

  @FieldResolver(() => User)
  async author(@Root() comment: Comment, @Ctx() ctx: RequestContext): Promise<User> {
    const user = await this.identity.findById(ctx, comment.authorId);
    if (!user) throw new NotFoundError('User');
    return user;
  }

  @FieldResolver(() => Task)
  async task(@Root() comment: Comment, @Ctx() ctx: RequestContext): Promise<Task> {
    const task = await this.tasks.findById(ctx, comment.taskId);
    if (!task) throw new NotFoundError('Task');
    return task;
  }
}
