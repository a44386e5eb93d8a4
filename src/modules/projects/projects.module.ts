import { defineModule, type PlatformDeps } from '../../platform/module';
import type { IdentityService } from '../identity';
import type { OrganizationAccess, OrganizationsService } from '../organizations';
import { CommentEntity } from './comment.entity';
import { CommentsService } from './comments.service';
import { ProjectEntity } from './project.entity';
import { projectEvents } from './project.events';
import { Projects1795567726657 } from './migrations/1795567726657-projects';
import { ProjectResolver } from './projects.resolver';
import { ProjectsService } from './projects.service';
import { TaskFilterExtensions } from './task-filters';
import { TaskEntity } from './task.entity';
import { taskChangedTopic } from './task-changes.live';
import { TaskChangeResolver } from './task-changes.resolver';
import { CommentResolver, TaskResolver } from './tasks.resolver';
import { TasksService } from './tasks.service';

export interface ProjectsDeps extends PlatformDeps {
  identity: IdentityService;
  access: OrganizationAccess;
  organizations: OrganizationsService;
}

export interface ProjectsExports {
  projects: ProjectsService;
  tasks: TasksService;
  /** Where a later module registers what the TaskFilter fields it adds mean (see task-filters.ts). */
  taskFilters: TaskFilterExtensions;
}

export const projectsModule = defineModule<ProjectsDeps, ProjectsExports>({
  name: 'projects',
  entities: [ProjectEntity, TaskEntity, CommentEntity],
  migrations: [Projects1795567726657],
  events: projectEvents,
  resolvers: [ProjectResolver, TaskResolver, CommentResolver, TaskChangeResolver],
  build({ uow, events, identity, access, organizations }) {
    const publisher = events.typed(projectEvents);
    const projects = new ProjectsService(uow, access, publisher);
    const taskFilters = new TaskFilterExtensions();
    const tasks = new TasksService(uow, projects, access, publisher, taskFilters, identity);
    const comments = new CommentsService(uow, tasks, publisher);
    return {
      resolvers: [
        new ProjectResolver(projects, tasks, organizations, identity),
        new TaskResolver(tasks, projects, comments, identity),
        new CommentResolver(comments, tasks, identity),
        new TaskChangeResolver(identity),
      ],
      exports: { projects, tasks, taskFilters },
      liveTopics: [taskChangedTopic(projects, tasks, comments, access)],
    };
  },
});
