import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import {
  CreateTaskDocument,
  ProjectTasksDocument,
  RecentAuditEventsDocument,
  type RecentAuditEventsQuery,
} from './generated/graphql';

export interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; requestId?: string };
}

/** An answer with errors: `code` is groundwork's extensions.code (docs/API.md lists them), BAD_USER_INPUT, NOT_FOUND, ... */
export class GraphQLRequestError extends Error {
  constructor(readonly errors: GraphQLErrorBody[]) {
    super(errors.map((error) => `${error.extensions?.code ?? 'ERROR'}: ${error.message}`).join('; '));
  }
}

/** The smallest typed client: the document's TypedDocumentNode gives the variables' type and the result's. Apollo Client, urql and graphql-request take the same documents. */
export async function request<TResult, TVariables>(
  url: string,
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
  accessToken?: string,
): Promise<TResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: TResult | null; errors?: GraphQLErrorBody[] };
  if (body.errors?.length || !body.data)
    throw new GraphQLRequestError(body.errors ?? [{ message: `HTTP ${response.status} without data` }]);
  return body.data;
}

/** The titles of a project's open tasks due before `now`: `dueDate` is an ISO string (DateTime), or null. */
export async function overdueTitles(url: string, accessToken: string, projectId: string, now: Date): Promise<string[]> {
  const { project } = await request(url, ProjectTasksDocument, { projectId, first: 50 }, accessToken);
  if (!project) return [];
  return project.tasks.edges
    .filter(({ node }) => node.status !== 'DONE' && node.dueDate !== null && new Date(node.dueDate) < now)
    .map(({ node }) => node.title);
}

/** Creates a task due at `due`; DateTime travels as an ISO 8601 string. */
export async function createTask(
  url: string,
  accessToken: string,
  projectId: string,
  title: string,
  due: Date,
): Promise<string> {
  const { createTask: task } = await request(
    url,
    CreateTaskDocument,
    { input: { projectId, title, dueDate: due.toISOString() } },
    accessToken,
  );
  return task.id;
}

type AuditEventNode = RecentAuditEventsQuery['auditEvents']['edges'][number]['node'];

/** One line per audit event; `data` is a JsonValue (the JSON scalar), narrowed before use. */
export function describeEvent(event: AuditEventNode): string {
  const { data } = event;
  const title =
    typeof data === 'object' && data !== null && !Array.isArray(data) && typeof data.title === 'string'
      ? data.title
      : undefined;
  return `${event.occurredAt.slice(0, 10)} ${event.summary}${title ? ` (${title})` : ''}`;
}

export async function recentEvents(url: string, accessToken: string, organizationId: string): Promise<string[]> {
  const { auditEvents } = await request(url, RecentAuditEventsDocument, { organizationId }, accessToken);
  return auditEvents.edges.map(({ node }) => describeEvent(node));
}
