import DataLoader from 'dataloader';
import { loadByIds } from '../../platform/database/load-by-ids';
import type { DataSource, EntityManager } from 'typeorm';
import type { TypedPublisher } from '../../platform/events/outbox';
import { likePattern } from '../../platform/database/sql';
import { ConflictError, ForbiddenError, NotFoundError } from '../../platform/errors';
import { LoaderKey, requireUserId, type RequestContext } from '../../platform/graphql/context';
import { parseId } from '../../platform/ids';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../platform/pagination';
import { atLeast, Role, type OrganizationAccess } from '../organizations';
import type { CreateProjectInput, ProjectFilter, UpdateProjectInput } from './project.inputs';
import { ProjectEntity, ProjectStatus } from './project.entity';
import type { Change, ProjectEvents } from './project.events';

type ProjectRow = ProjectEntity & { createdAtKey: string; total: number };

/** Projects, and the rule every task and comment operation starts with: may the viewer touch this project? */
export class ProjectsService {
  private readonly byId: LoaderKey<DataLoader<string, ProjectEntity | undefined>>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly access: OrganizationAccess,
    private readonly events: TypedPublisher<ProjectEvents>,
  ) {
    this.byId = new LoaderKey('projects.byId', () => new DataLoader((ids: readonly string[]) => loadByIds(this.dataSource, ProjectEntity, ids)));
  }

  /**
   * The project, if the viewer is a member of its organization with at least
   * `minimum`: NOT_FOUND (the same for absent and hidden), FORBIDDEN, UNAUTHENTICATED.
   */
  async requireProject(ctx: RequestContext, projectId: string, minimum: Role = Role.MEMBER): Promise<ProjectEntity> {
    requireUserId(ctx);
    const project = await this.findById(ctx, projectId);
    const membership = project && (await this.access.viewerMembership(ctx, project.organizationId));
    if (!project || !membership) throw new NotFoundError('Project');
    if (!atLeast(membership.role, minimum)) throw new ForbiddenError(`This needs the ${minimum} role or higher in the organization`);
    return project;
  }

  /** For writes to its tasks and comments: an archived project is read-only. */
  async requireWritableProject(ctx: RequestContext, projectId: string): Promise<ProjectEntity> {
    const project = await this.requireProject(ctx, projectId);
    if (project.status === ProjectStatus.ARCHIVED) throw new ConflictError('The project is archived: its tasks are read-only');
    return project;
  }

  get(ctx: RequestContext, id: string): Promise<ProjectEntity> {
    return this.requireProject(ctx, parseId(id, 'id'));
  }

  /** Batched per request; no authorization: for fields of records the viewer was already allowed to see. */
  findById(ctx: RequestContext, id: string): Promise<ProjectEntity | undefined> {
    return ctx.loaders.get(this.byId).load(id);
  }

  /** Newest first, filtered by status and a name substring; one statement for the page and its total. */
  async list(
    ctx: RequestContext,
    organizationId: string,
    first?: number,
    after?: string | null,
    filter?: ProjectFilter | null,
  ): Promise<Connection<ProjectEntity>> {
    const orgId = parseId(organizationId, 'organizationId');
    await this.access.require(ctx, orgId);
    const size = pageSize(first);
    const [afterKey, afterId] = after ? decodeCursor(after, ['timestamp', 'uuid']) : [null, null];
    const search = filter?.search?.trim();
    const rows = (await this.dataSource.query(
      `WITH filtered AS (
         SELECT * FROM projects
          WHERE organization_id = $1
            AND ($2::text IS NULL OR status = $2)
            AND ($3::text IS NULL OR name ILIKE $3))
       SELECT id, organization_id AS "organizationId", name, description, status, created_at AS "createdAt",
              updated_at AS "updatedAt", created_at::text AS "createdAtKey", (SELECT count(*)::int FROM filtered) AS total
         FROM filtered
        WHERE $4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::uuid)
        ORDER BY created_at DESC, id DESC
        LIMIT $6`,
      [orgId, filter?.status ?? null, search ? likePattern(search) : null, afterKey, afterId, size + 1],
    )) as ProjectRow[];
    const total = rows[0]?.total ?? (after ? await this.count(orgId, filter?.status, search) : 0);
    return toConnection<ProjectRow>(rows, size, total, (row) => [row.createdAtKey, row.id]);
  }

  async create(ctx: RequestContext, input: CreateProjectInput): Promise<ProjectEntity> {
    const organizationId = parseId(input.organizationId, 'organizationId');
    await this.access.require(ctx, organizationId);
    return this.dataSource.transaction(async (manager) => {
      const project = manager.create(ProjectEntity, {
        organizationId,
        name: input.name.trim(),
        description: input.description?.trim() || null,
        status: ProjectStatus.ACTIVE,
      });
      await manager.insert(ProjectEntity, project);
      await this.events.publish(manager, ctx, {
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
    return this.save(ctx, project, changes, (manager, saved) =>
      this.events.publish(manager, ctx, {
        type: 'project.updated',
        organizationId: saved.organizationId,
        subject: { type: 'project', id: saved.id },
        data: { changes },
      }),
    );
  }

  /** ADMIN+; archiving an archived project changes nothing. */
  async archive(ctx: RequestContext, id: string): Promise<ProjectEntity> {
    const project = await this.requireProject(ctx, parseId(id, 'id'), Role.ADMIN);
    if (project.status === ProjectStatus.ARCHIVED) return project;
    return this.save(ctx, project, { status: { from: project.status, to: ProjectStatus.ARCHIVED } }, (manager, saved) =>
      this.events.publish(manager, ctx, {
        type: 'project.archived',
        organizationId: saved.organizationId,
        subject: { type: 'project', id: saved.id },
        data: { name: saved.name, previousStatus: project.status },
      }),
    );
  }

  /** Applies the changes and publishes their event in one transaction. */
  private async save(
    ctx: RequestContext,
    project: ProjectEntity,
    changes: Partial<Record<'name' | 'description' | 'status', Change<unknown>>>,
    publish: (manager: EntityManager, saved: ProjectEntity) => Promise<unknown>,
  ): Promise<ProjectEntity> {
    const values = Object.fromEntries(Object.entries(changes).map(([field, change]) => [field, change!.to])) as Partial<ProjectEntity>;
    const saved = await this.dataSource.transaction(async (manager) => {
      const result = await manager.save(ProjectEntity, { ...project, ...values });
      await publish(manager, result);
      return result;
    });
    ctx.loaders.get(this.byId).clear(project.id).prime(project.id, saved);
    return saved;
  }

  private async count(organizationId: string, status?: ProjectStatus, search?: string): Promise<number> {
    const query = this.dataSource.getRepository(ProjectEntity).createQueryBuilder('p').where('p.organization_id = :organizationId', { organizationId });
    if (status) query.andWhere('p.status = :status', { status });
    if (search) query.andWhere('p.name ILIKE :pattern', { pattern: likePattern(search) });
    return query.getCount();
  }

}
