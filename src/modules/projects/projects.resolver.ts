import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Info, Mutation, Query, Resolver, Root } from 'type-graphql';
import { NotFoundError } from '../../platform/errors';
import type { RequestContext } from '../../platform/graphql/context';
import { PageArgs, selectsTotalCount, type Connection } from '../../platform/pagination';
import { selects } from '../../platform/graphql/selection';
import type { IdentityService } from '../identity';
import { Organization, type OrganizationsService } from '../organizations';
import { CreateProjectInput, ProjectFilter, TaskFilter, TaskOrder, UpdateProjectInput } from './project.inputs';
import { Project, ProjectConnection, Task, TaskConnection, type ProjectParent } from './project.types';
import type { ProjectsService } from './projects.service';
import type { TasksService } from './tasks.service';

/** The Task fields that show a user, and the id each reads. */
const USER_FIELDS: [string, (task: Task) => string | null][] = [
  ['assignee', (task) => task.assigneeId],
  ['createdBy', (task) => task.createdById],
];

@Resolver(() => Project)
export class ProjectResolver {
  constructor(
    private readonly projectsService: ProjectsService,
    private readonly tasksService: TasksService,
    private readonly organizations: OrganizationsService,
    private readonly identity: IdentityService,
  ) {}

  @Query(() => Project, { nullable: true, description: 'NOT_FOUND unless the viewer is a member of its organization.' })
  project(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Project> {
    return this.projectsService.get(ctx, id);
  }

  @Query(() => ProjectConnection, { description: 'Newest first. `first` is 1 to 100.' })
  projects(
    @Ctx() ctx: RequestContext,
    @Arg('organizationId', () => ID) organizationId: string,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('filter', () => ProjectFilter, { nullable: true }) filter: ProjectFilter | null,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<Project>> {
    return this.projectsService.list(ctx, organizationId, { ...page, total: selectsTotalCount(info) }, filter);
  }

  @Authorized()
  @Mutation(() => Project)
  createProject(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => CreateProjectInput) input: CreateProjectInput,
  ): Promise<Project> {
    return this.projectsService.create(ctx, input);
  }

  @Authorized()
  @Mutation(() => Project)
  updateProject(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => UpdateProjectInput) input: UpdateProjectInput,
  ): Promise<Project> {
    return this.projectsService.update(ctx, input);
  }

  @Authorized()
  @Mutation(() => Project, { description: 'ADMIN+. Its tasks become read-only.' })
  archiveProject(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<Project> {
    return this.projectsService.archive(ctx, id);
  }

  @FieldResolver(() => Organization)
  async organization(@Root() project: ProjectParent, @Ctx() ctx: RequestContext): Promise<Organization> {
    const organization = await this.organizations.findById(ctx, project.organizationId);
    if (!organization) throw new NotFoundError('Organization');
    return organization;
  }

  @FieldResolver(() => TaskConnection, { description: 'Newest first unless orderBy says otherwise; id breaks ties.' })
  async tasks(
    @Root() project: ProjectParent,
    @Ctx() ctx: RequestContext,
    @Args(() => PageArgs) page: PageArgs,
    @Arg('filter', () => TaskFilter, { nullable: true }) filter: TaskFilter | null,
    // GraphQL checks TaskOrder's enums already: class-validator would run again for every project of a page.
    @Arg('orderBy', () => TaskOrder, { nullable: true }) orderBy: TaskOrder | null,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<Task>> {
    const tasks = await this.tasksService.page(ctx, project.id, {
      ...page,
      filter,
      orderBy,
      total: selectsTotalCount(info),
    });
    // The users the page shows, fetched ahead (one statement for every project's page): its tasks then resolve without a promise each.
    const users = USER_FIELDS.filter(([field]) => selects(info, ['edges', 'node', field]));
    if (users.length > 0)
      await this.identity.prefetch(ctx, [
        ...new Set(
          tasks.edges.flatMap(({ node }) => users.map(([, id]) => id(node)).filter((id): id is string => id !== null)),
        ),
      ]);
    return tasks;
  }
}
