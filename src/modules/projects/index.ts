export { projectsModule, type ProjectsDeps, type ProjectsExports } from './projects.module';
export type { ProjectsService } from './projects.service';
export type { TasksService } from './tasks.service';
export { Project, Task, Comment, ProjectStatus, TaskStatus } from './project.types';
export { type ProjectEvents, type Change } from './project.events';
export { TaskFilter } from './project.inputs';
export type { TaskFilterCondition, TaskFilterExtensions } from './task-filters';
