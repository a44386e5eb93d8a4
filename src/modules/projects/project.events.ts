import { defineEvents } from '../../platform/events/catalog';
import type { Change } from '../../platform/events/changes';
import type { ProjectStatus } from './project.entity';
import type { TaskEntity } from './task.entity';

export type { Change };

/** Dates as events carry them: ISO-8601 text. */
type Json<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

/** A task as task.created carries it: every column but the bookkeeping ones, so a new column needs no edit here. */
export type TaskSnapshot = Json<
  Omit<TaskEntity, 'id' | 'organizationId' | 'createdById' | 'version' | 'createdAt' | 'updatedAt' | 'project'>
>;

/** The events this module publishes: type -> `data`. Subjects: the project, the task, or the comment. */
export type ProjectEvents = {
  'project.created': { name: string; description: string | null };
  'project.updated': { changes: { name?: Change<string>; description?: Change<string | null> } };
  'project.archived': { name: string; previousStatus: ProjectStatus };
  'task.created': TaskSnapshot;
  'task.updated': { projectId: string; version: number; changes: Record<string, Change<unknown>> };
  /** Also published when a task is created with an assignee. */
  'task.assigned': { projectId: string; title: string; assigneeId: string; previousAssigneeId: string | null };
  'task.deleted': { projectId: string; title: string };
  'comment.added': { taskId: string; projectId: string; authorId: string; body: string };
};

/** What consumers must know of each event: the compiler refuses a type of ProjectEvents left out. */
export const projectEvents = defineEvents<ProjectEvents>({
  'project.created': {
    description: 'A project was created.',
    webhook: true,
    audit: (event) => `created the project "${event.data.name}"`,
  },
  'project.updated': {
    description: 'A project was renamed or its description changed; data.changes has each field from and to.',
    webhook: true,
    audit: (event) => `changed ${Object.keys(event.data.changes).join(' and ')} of a project`,
  },
  'project.archived': {
    description: 'A project was archived; its tasks are read-only.',
    webhook: true,
    audit: (event) => `archived the project "${event.data.name}"`,
  },
  'task.created': {
    description: 'A task was created; data is the task.',
    webhook: true,
    audit: (event) => `created the task "${event.data.title}"`,
  },
  'task.updated': {
    description: 'A task changed; data.changes has each field from and to, data.version the new version.',
    webhook: true,
    audit: (event) => `changed ${Object.keys(event.data.changes).join(', ')} of a task (version ${event.data.version})`,
  },
  'task.assigned': {
    description: 'A task was given an assignee (also on creation with one).',
    webhook: true,
    audit: (event) => `assigned the task "${event.data.title}"`,
  },
  'task.deleted': {
    description: 'A task was deleted.',
    webhook: true,
    audit: (event) => `deleted the task "${event.data.title}"`,
  },
  'comment.added': {
    description: 'A comment was added to a task; data.body is its text.',
    webhook: true,
    audit: () => 'commented on a task',
  },
});
