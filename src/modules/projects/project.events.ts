import type { ProjectStatus } from './project.entity';
import type { TaskStatus } from './task.entity';

/** A field's value before and after an update. */
export type Change<T> = { from: T; to: T };

/** The events this module publishes: type -> `data`. Subjects: the project, the task, or the comment. */
export type ProjectEvents = {
  'project.created': { name: string; description: string | null };
  'project.updated': { changes: { name?: Change<string>; description?: Change<string | null> } };
  'project.archived': { name: string; previousStatus: ProjectStatus };
  'task.created': {
    projectId: string;
    title: string;
    status: TaskStatus;
    priority: number;
    dueDate: string | null;
    assigneeId: string | null;
  };
  'task.updated': { projectId: string; version: number; changes: Record<string, Change<unknown>> };
  /** Also published when a task is created with an assignee. */
  'task.assigned': { projectId: string; title: string; assigneeId: string; previousAssigneeId: string | null };
  'task.deleted': { projectId: string; title: string };
  'comment.added': { taskId: string; projectId: string; authorId: string; body: string };
};

export const PROJECT_EVENT_TYPES = [
  'project.created',
  'project.updated',
  'project.archived',
  'task.created',
  'task.updated',
  'task.assigned',
  'task.deleted',
  'comment.added',
] as const satisfies readonly (keyof ProjectEvents)[];
