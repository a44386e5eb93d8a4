import { isolationCases } from '../../support/isolation';
import { ok } from '../../support/organizations';

/** The projects module's rows of the tenant-isolation suite: a project of A and a task in it. */
export const isolation = isolationCases({
  async seed({ api, owner, organizationId }) {
    const project = await ok<{ createProject: { id: string } }>(
      api.gql(
        'mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }',
        { input: { organizationId, name: 'A' } },
        {
          token: owner.accessToken,
        },
      ),
    );
    const task = await ok<{ createTask: { id: string } }>(
      api.gql(
        'mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }',
        { input: { projectId: project.createProject.id, title: 'A task' } },
        {
          token: owner.accessToken,
        },
      ),
    );
    return { projectId: project.createProject.id, taskId: task.createTask.id };
  },
  cases: [
    {
      operation: 'project',
      document: 'query($id: ID!) { project(id: $id) { id } }',
      variables: (a) => ({ id: a.projectId }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'projects',
      document: 'query($id: ID!) { projects(organizationId: $id) { totalCount } }',
      variables: (a) => ({ id: a.organizationId }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'task',
      document: 'query($id: ID!) { task(id: $id) { id } }',
      variables: (a) => ({ id: a.taskId }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'createProject',
      document: 'mutation($input: CreateProjectInput!) { createProject(input: $input) { id } }',
      variables: (a) => ({ input: { organizationId: a.organizationId, name: 'Intruder' } }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'updateProject',
      document: 'mutation($input: UpdateProjectInput!) { updateProject(input: $input) { id } }',
      variables: (a) => ({ input: { id: a.projectId, name: 'Renamed' } }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'archiveProject',
      document: 'mutation($id: ID!) { archiveProject(id: $id) { id } }',
      variables: (a) => ({ id: a.projectId }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'createTask',
      document: 'mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }',
      variables: (a) => ({ input: { projectId: a.projectId, title: 'Intruder' } }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'updateTask',
      document: 'mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id } }',
      variables: (a) => ({ input: { id: a.taskId, title: 'Changed' } }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'deleteTask',
      document: 'mutation($id: ID!) { deleteTask(id: $id) }',
      variables: (a) => ({ id: a.taskId }),
      outsider: 'NOT_FOUND',
    },
    {
      operation: 'addComment',
      document: 'mutation($input: AddCommentInput!) { addComment(input: $input) { id } }',
      variables: (a) => ({ input: { taskId: a.taskId, body: 'Intruder' } }),
      outsider: 'NOT_FOUND',
    },
  ],
});
