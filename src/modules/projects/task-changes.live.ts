import type { DomainEvent, EventOf } from '../../platform/events/event';
import type { LiveTopic } from '../../platform/live/topic';
import type { OrganizationAccess } from '../organizations';
import type { CommentsService } from './comments.service';
import type { ProjectEvents } from './project.events';
import type { ProjectsService } from './projects.service';
import { TaskChangeKind, type TaskChange } from './task-change.types';
import type { TasksService } from './tasks.service';

const KINDS: Record<string, TaskChangeKind> = {
  'task.created': TaskChangeKind.CREATED,
  'task.updated': TaskChangeKind.UPDATED,
  'task.assigned': TaskChangeKind.ASSIGNED,
  'task.deleted': TaskChangeKind.DELETED,
  'comment.added': TaskChangeKind.COMMENTED,
};

type TaskEvent = EventOf<
  Pick<ProjectEvents, 'task.created' | 'task.updated' | 'task.assigned' | 'task.deleted' | 'comment.added'>
>;

/**
 * taskChanged(projectId): the task events of one project, for members of
 * its organization. Each batch reads its tasks and comments once, for every
 * subscriber; a subscriber who is no longer a member is ended with FORBIDDEN.
 */
export function taskChangedTopic(
  projects: ProjectsService,
  tasks: TasksService,
  comments: CommentsService,
  access: OrganizationAccess,
): LiveTopic<TaskChange> {
  return {
    name: 'taskChanged',
    types: Object.keys(KINDS),
    endWhenRefused: true,
    async open(ctx, projectId) {
      const project = await projects.requireProject(ctx, projectId ?? '');
      return { key: project.id, organizationId: project.organizationId };
    },
    keyOf(event) {
      const { projectId } = event.data as { projectId?: unknown };
      return typeof projectId === 'string' ? projectId : undefined;
    },
    admit: (recipients) => access.membersAmong(recipients),
    async payloads(events: readonly DomainEvent[]) {
      const taskEvents = events as readonly TaskEvent[];
      const taskIdOf = (event: TaskEvent) => (event.type === 'comment.added' ? event.data.taskId : event.subject.id);
      const [current, added] = await Promise.all([
        tasks.currentOf([...new Set(taskEvents.filter((e) => e.type !== 'task.deleted').map(taskIdOf))]),
        comments.currentOf(taskEvents.filter((e) => e.type === 'comment.added').map((e) => e.subject.id)),
      ]);
      return new Map(
        taskEvents.map((event) => {
          const taskId = taskIdOf(event);
          const change: TaskChange = {
            kind: KINDS[event.type],
            eventId: event.id,
            taskId,
            projectId: event.data.projectId,
            occurredAt: event.occurredAt,
            task: event.type === 'task.deleted' ? null : (current.get(taskId) ?? null),
            changes: changesOf(event),
            comment: event.type === 'comment.added' ? (added.get(event.subject.id) ?? null) : null,
            actorId: event.actorId,
          };
          return [event.id, change];
        }),
      );
    },
  };
}

function changesOf(event: TaskEvent): Record<string, unknown> | null {
  switch (event.type) {
    case 'task.updated':
      return event.data.changes;
    case 'task.assigned':
      return { assigneeId: { from: event.data.previousAssigneeId, to: event.data.assigneeId } };
    case 'task.created':
      return Object.fromEntries(Object.entries(event.data).map(([field, to]) => [field, { from: null, to }]));
    default:
      return null;
  }
}
