// Compiled with the example: each @ts-expect-error fails the build (an unused directive is an error) if a scalar became `any` or lost its type.
import type { CreateTaskMutation, CreateTaskMutationVariables, RecentAuditEventsQuery } from './generated/graphql';

type Task = CreateTaskMutation['createTask'];
type AuditData = RecentAuditEventsQuery['auditEvents']['edges'][number]['node']['data'];

export function scalarChecks(task: Task, data: AuditData): void {
  // @ts-expect-error DateTime is an ISO string, not a Date
  const createdAt: Date = task.createdAt;
  // @ts-expect-error a nullable DateTime may be null
  const dueDate: string = task.dueDate;
  // @ts-expect-error JSON is a JsonValue to narrow, not any
  const title: string = data;
  // @ts-expect-error a variable of type DateTime takes a string, not a Date
  const variables: CreateTaskMutationVariables = { input: { projectId: '1', title: 't', dueDate: new Date() } };
  void [createdAt, dueDate, title, variables];
}
