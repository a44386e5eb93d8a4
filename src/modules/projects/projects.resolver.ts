import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { NotFoundError } from '../../platform/errors';
import type { RequestContext } from '../../platform/graphql/context';
import { PageArgs, type Connection } from '../../platform/pagination';
import { Organization, type OrganizationsService } from '../organizations';
import { CreateProjectInput, ProjectFilter, TaskFilter, TaskOrder, UpdateProjectInput } from './project.inputs';
import { Project, ProjectConnection, Task, TaskConnection } from './project.types';
import type { ProjectsService } from './projects.service';
import type { TasksService } from './tasks.service';

@Resolver(() => Project)
export class ProjectResolver {
  constructor(
    private readonly projectsService: ProjectsService,
    private readonly tasksService: TasksService,
    private readonly organizations: OrganizationsService,
  ) {}

  @Query(() => Project, { nullable: true, description: 'NOT_FOUND unless the viewer is a member of its organization.' })
  project(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Project> {
    return this.projectsService.get(ctx, id);
  }

  @Query(() => ProjectConnection, { description: 'Newest first. `first` is 1 to 100.' })
  projects(
    @Ctx() ctx: RequestContext,
    @Arg('organizationId', () => ID) organizationId: string,
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Arg('filter', () => ProjectFilter, { nullable: true }) filter: ProjectFilter | null,
  ): Promise<Connection<Project>> {
    return this.projectsService.list(ctx, organizationId, page, filter);
  }

  @Authorized()
  @Mutation(() => Project)
  createProject(@Ctx() ctx: RequestContext, @Arg('input', () => CreateProjectInput) input: CreateProjectInput): Promise<Project> {
    return this.projectsService.create(ctx, input);
  }

  @Authorized()
  @Mutation(() => Project)
  updateProject(@Ctx() ctx: RequestContext, @Arg('input', () => UpdateProjectInput) input: UpdateProjectInput): Promise<Project> {
    return this.projectsService.update(ctx, input);
  }

  @Authorized()
  @Mutation(() => Project, { description: 'ADMIN+. Its tasks become read-only.' })
  archiveProject(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Project> {
    return this.projectsService.archive(ctx, id);
  }

  @FieldResolver(() => Organization)
  async organization(@Root() project: Project, @Ctx() ctx: RequestContext): Promise<Organization> {
    const organization = await this.organizations.findById(ctx, project.organizationId);
    if (!organization) throw new NotFoundError('Organization');
    return organization;
  }

  @FieldResolver(() => TaskConnection, { description: 'Newest first unless orderBy says otherwise; id breaks ties.' })
  tasks(
    @Root() project: Project,
    @Ctx() ctx: RequestContext,
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Arg('filter', () => TaskFilter, { nullable: true }) filter: TaskFilter | null,
    @Arg('orderBy', () => TaskOrder, { nullable: true }) orderBy: TaskOrder | null,
  ): Promise<Connection<Task>> {
    return this.tasksService.page(ctx, project.id, { ...page, filter, orderBy });
  }
}
