import type { TypedPublisher } from '../../platform/events/outbox';
import { byIdLoader } from '../../platform/database/load-by-ids';
import type { Transaction, UnitOfWork } from '../../platform/database/unit-of-work';
import { ConflictError, NotFoundError } from '../../platform/errors';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { pageRequest, type Connection, type PageQuery } from '../../platform/pagination';
import { Role, type OrganizationAccess } from '../organizations';
import type { CreateProjectInput, ProjectFilter, UpdateProjectInput } from './project.inputs';
import { ProjectStatus, type ProjectEntity } from './project.entity';
import type { ProjectEvents } from './project.events';
import { ProjectsRepository } from './projects.repository';

/** Projects, and the rule every task and comment operation starts with: may the viewer touch this project? */
export class ProjectsService {
  private readonly byId = byIdLoader('projects.byId', (ids) => this.uow.get(ProjectsRepository).byIds(ids));

  constructor(
    private readonly uow: UnitOfWork,
    private readonly access: OrganizationAccess,
    private readonly events: TypedPublisher<ProjectEvents>,
  ) {}

  /**
   * The project, if the viewer is a member of its organization with at least
   * `minimum`: NOT_FOUND (the same for absent and hidden), FORBIDDEN, UNAUTHENTICATED.
   */
  async requireProject(ctx: RequestContext, projectId: string, minimum: Role = Role.MEMBER): Promise<ProjectEntity> {
    return this.access.requireVisible(ctx, 'Project', await this.findById(ctx, projectId), minimum);
  }

  /**
   * Inside the transaction of a write to a project's tasks or comments: the
   * project is held against archiving until the write commits, and an
   * archived project is read-only (CONFLICT).
   */
  async assertWritable(tx: Transaction, projectId: string): Promise<void> {
    refuseUnlessWritable(await tx.get(ProjectsRepository).lockStatus(projectId));
  }

  /** Outside a transaction, for an error only: NOT_FOUND when the project is gone, CONFLICT when archived. */
  async requireWritable(ctx: RequestContext, projectId: string): Promise<void> {
    refuseUnlessWritable((await this.findById(ctx, projectId))?.status);
  }

  get(ctx: RequestContext, id: string): Promise<ProjectEntity> {
    return this.requireProject(ctx, parseId(id, 'id'));
  }

  /** Batched per request; no authorization: for fields of records the viewer was already allowed to see. */
  findById(ctx: RequestContext, id: string): Promise<ProjectEntity | undefined> {
    return ctx.loaders.get(this.byId).load(id);
  }

  /**
   * Newest first, filtered by status and a name substring; one statement for
   * the membership, the page and its total. Only when it finds no membership
   * does access say why (UNAUTHENTICATED, NOT_FOUND).
   */
  async list(
    ctx: RequestContext,
    organizationId: string,
    args: PageQuery,
    filter?: ProjectFilter | null,
  ): Promise<Connection<ProjectEntity>> {
    const orgId = parseId(organizationId, 'organizationId');
    const userId = requireUserId(ctx);
    const request = pageRequest(args, ['timestamp', 'uuid']);
    const projects = this.uow.get(ProjectsRepository);
    const [page] = await projects.pagesForMember(userId, [orgId], request, filter);
    if (page) return page;
    await this.access.require(ctx, orgId);
    // Only a membership granted between the two reads gets here: read the page again.
    const [again] = await projects.pagesForMember(userId, [orgId], request, filter);
    if (!again) throw new NotFoundError('Organization');
    return again;
  }

  async create(ctx: RequestContext, input: CreateProjectInput): Promise<ProjectEntity> {
    const organizationId = parseId(input.organizationId, 'organizationId');
    await this.access.require(ctx, organizationId);
    return this.uow.transaction(async (tx) => {
      const project = await tx.get(ProjectsRepository).insert({
        organizationId,
        name: input.name.trim(),
        description: input.description?.trim() || null,
      });
      await this.events.publish(tx, ctx, {
        type: 'project.created',
        organizationId,
        subject: { type: 'project', id: project.id },
        data: { name: project.name, description: project.description },
      });
      return project;
    });
  }

  async update(ctx: RequestContext, input: UpdateProjectInput): Promise<ProjectEntity> {
    const project = await this.requireProject(ctx, parseId(input.id, 'id'));
    const changes: ProjectEvents['project.updated']['changes'] = {};
    const name = input.name?.trim();
    if (name != null && name !== project.name) changes.name = { from: project.name, to: name };
    if (input.description !== undefined) {
      const description = input.description?.trim() || null;
      if (description !== project.description) changes.description = { from: project.description, to: description };
    }
    if (Object.keys(changes).length === 0) return project;
    const values = Object.fromEntries(
      Object.entries(changes).map(([field, change]) => [field, change.to]),
    ) as Partial<ProjectEntity>;
    return this.save(ctx, project, async (tx) => {
      const saved = await tx.get(ProjectsRepository).update(project, values);
      await this.events.publish(tx, ctx, {
        type: 'project.updated',
        organizationId: saved.organizationId,
        subject: { type: 'project', id: saved.id },
        data: { changes },
      });
      return saved;
    });
  }

  /** ADMIN+; archiving an archived project changes nothing. The row is locked, so no task write lands after it. */
  async archive(ctx: RequestContext, id: string): Promise<ProjectEntity> {
    const project = await this.requireProject(ctx, parseId(id, 'id'), Role.ADMIN);
    if (project.status === ProjectStatus.ARCHIVED) return project;
    return this.save(ctx, project, async (tx) => {
      const projects = tx.get(ProjectsRepository);
      const current = await projects.lockForUpdate(project.id);
      if (!current) throw new NotFoundError('Project');
      if (current.status === ProjectStatus.ARCHIVED) return current;
      const saved = await projects.update(current, { status: ProjectStatus.ARCHIVED });
      await this.events.publish(tx, ctx, {
        type: 'project.archived',
        organizationId: saved.organizationId,
        subject: { type: 'project', id: saved.id },
        data: { name: saved.name, previousStatus: current.status },
      });
      return saved;
    });
  }

  /** Runs a write in one transaction and lets the rest of the request see its result. */
  private async save(
    ctx: RequestContext,
    project: ProjectEntity,
    write: (tx: Transaction) => Promise<ProjectEntity>,
  ): Promise<ProjectEntity> {
    const saved = await this.uow.transaction(write);
    ctx.loaders.get(this.byId).clear(project.id).prime(project.id, saved);
    return saved;
  }
}

/** NOT_FOUND for a project that is gone, CONFLICT for an archived one: its tasks and comments are read-only. */
function refuseUnlessWritable(status: ProjectStatus | null | undefined): void {
  if (!status) throw new NotFoundError('Project');
  if (status === ProjectStatus.ARCHIVED) throw new ConflictError('The project is archived: its tasks are read-only');
}
