import { ok, type Session } from './organizations';
import type { TestApp } from './test-app';

export const CREATE_PROJECT = `mutation($input: CreateProjectInput!) { createProject(input: $input) { id name description status organization { id } createdAt updatedAt } }`;
export const CREATE_TASK = `mutation($input: CreateTaskInput!) {
  createTask(input: $input) { id title description status priority dueDate version assignee { id } createdBy { id } project { id } } }`;
export const UPDATE_TASK = `mutation($input: UpdateTaskInput!) {
  updateTask(input: $input) { id title description status priority dueDate version assignee { id } } }`;
export const ADD_COMMENT = `mutation($input: AddCommentInput!) { addComment(input: $input) { id body author { id } task { id } createdAt } }`;

export async function createProject(api: TestApp, session: Session, organizationId: string, name = 'Project') {
  return (await ok(api.gql(CREATE_PROJECT, { input: { organizationId, name } }, { token: session.accessToken })))
    .createProject as {
    id: string;
    name: string;
  };
}

export async function createTask(
  api: TestApp,
  session: Session,
  projectId: string,
  input: Record<string, unknown> = {},
) {
  return (
    await ok(api.gql(CREATE_TASK, { input: { projectId, title: 'Task', ...input } }, { token: session.accessToken }))
  ).createTask as {
    id: string;
    version: number;
  };
}
