/**
 * The three requests `npm run bench` sends, as each server spells them, and
 * what each answer must come down to for the bench to accept that the servers
 * answered alike: the same ids, titles, statuses and assignees, in the same
 * order; for addComment, the same body and a stored comment by the viewer on
 * the same task.
 */
export const SERVERS = ['groundwork', 'reference', 'postgraphile'] as const;
export type ServerName = (typeof SERVERS)[number];

/** `--servers a,b`: the names, in the bench's own order; throws on an unknown or empty list. */
export function parseServers(value: string): ServerName[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(SERVERS as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0)
    throw new Error(`--servers takes a comma-separated list of ${SERVERS.join(', ')}; got "${value}"`);
  return SERVERS.filter((name) => names.includes(name));
}

export interface Request {
  /** Appended to the server's base URL (GraphQL servers: ''). */
  path: string;
  body: string;
}

export interface Scenario {
  name: string;
  requests: Record<ServerName, Request>;
  /** The answer's data in one shape for all servers; throws when the data is not there. */
  normalise(server: ServerName, data: unknown): unknown;
  /** Whether each request writes (its answers differ by the new row's id, compared through the database instead). */
  writes: boolean;
}

export interface Fixture {
  taskId: string;
  organizationId: string;
}

interface Person {
  id: string;
  name: string;
}
export interface TaskAnswer {
  id: string;
  title: string;
  status?: string;
  assignee: Person | null;
}
export interface ProjectAnswer {
  id: string;
  name: string;
  tasks: TaskAnswer[];
}
interface CommentAnswer {
  id: string;
  body: string;
}

/** The answers' data as each GraphQL server shapes it (the reference answers in the normalised shape already). */
interface GroundworkData {
  task?: TaskAnswer | null;
  projects?: { edges: { node: { id: string; name: string; tasks: { edges: { node: TaskAnswer }[] } } }[] };
  addComment?: CommentAnswer | null;
}
interface PostGraphileTask {
  rowId: string;
  title: string;
  status?: string;
  userByAssigneeId: { rowId: string; name: string } | null;
}
interface PostGraphileData {
  taskByRowId?: PostGraphileTask | null;
  allProjects?: { nodes: { rowId: string; name: string; tasksByProjectId: { nodes: PostGraphileTask[] } }[] };
  addComment?: { result: { rowId: string; body: string } | null } | null;
}

const graphql = (query: string, variables: Record<string, unknown>): Request => ({
  path: '',
  body: JSON.stringify({ query: query.replace(/\s+/g, ' ').trim(), variables }),
});

const fromGroundwork = ({ id, title, status, assignee }: TaskAnswer): TaskAnswer => ({
  id,
  title,
  ...(status === undefined ? {} : { status }),
  assignee: assignee && { id: assignee.id, name: assignee.name },
});
const fromPostGraphile = ({ rowId, title, status, userByAssigneeId: user }: PostGraphileTask): TaskAnswer => ({
  id: rowId,
  title,
  ...(status === undefined ? {} : { status }),
  assignee: user && { id: user.rowId, name: user.name },
});

function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`no ${what} in the answer`);
  return value;
}

export function scenarios({ taskId, organizationId }: Fixture): Scenario[] {
  return [
    {
      name: 'q1 task by id + assignee',
      writes: false,
      requests: {
        groundwork: graphql('query($id: ID!) { task(id: $id) { id title status assignee { id name } } }', {
          id: taskId,
        }),
        reference: { path: '/task', body: JSON.stringify({ id: taskId }) },
        postgraphile: graphql(
          'query($id: UUID!) { taskByRowId(rowId: $id) { rowId title status userByAssigneeId { rowId name } } }',
          { id: taskId },
        ),
      },
      normalise(server, data) {
        if (server === 'groundwork') return fromGroundwork(required((data as GroundworkData).task, 'task'));
        if (server === 'postgraphile')
          return fromPostGraphile(required((data as PostGraphileData).taskByRowId, 'task'));
        return fromGroundwork(required(data as TaskAnswer | null, 'task'));
      },
    },
    {
      name: 'q2 org > 20 projects > 10 tasks + assignee',
      writes: false,
      requests: {
        groundwork: graphql(
          `
            query ($org: ID!) {
              projects(organizationId: $org, first: 20) {
                edges {
                  node {
                    id
                    name
                    tasks(first: 10, orderBy: { field: CREATED_AT, direction: ASC }) {
                      edges {
                        node {
                          id
                          title
                          assignee {
                            id
                            name
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          `,
          { org: organizationId },
        ),
        reference: { path: '/nested', body: JSON.stringify({ organizationId }) },
        postgraphile: graphql(
          `
            query ($org: UUID!) {
              allProjects(condition: { organizationId: $org }, first: 20, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) {
                nodes {
                  rowId
                  name
                  tasksByProjectId(first: 10, orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) {
                    nodes {
                      rowId
                      title
                      userByAssigneeId {
                        rowId
                        name
                      }
                    }
                  }
                }
              }
            }
          `,
          { org: organizationId },
        ),
      },
      normalise(server, data): ProjectAnswer[] {
        if (server === 'groundwork') {
          return required((data as GroundworkData).projects, 'projects').edges.map(({ node }) => ({
            id: node.id,
            name: node.name,
            tasks: node.tasks.edges.map((edge) => fromGroundwork(edge.node)),
          }));
        }
        if (server === 'postgraphile') {
          return required((data as PostGraphileData).allProjects, 'projects').nodes.map((node) => ({
            id: node.rowId,
            name: node.name,
            tasks: node.tasksByProjectId.nodes.map(fromPostGraphile),
          }));
        }
        return required(data as ProjectAnswer[] | null, 'projects').map((node) => ({
          id: node.id,
          name: node.name,
          tasks: node.tasks.map(fromGroundwork),
        }));
      },
    },
    {
      name: 'q3 addComment',
      writes: true,
      requests: {
        groundwork: graphql('mutation($i: AddCommentInput!) { addComment(input: $i) { id body createdAt } }', {
          i: { taskId, body: 'bench comment' },
        }),
        reference: { path: '/comment', body: JSON.stringify({ taskId, body: 'bench comment' }) },
        postgraphile: graphql(
          'mutation($i: AddCommentInput!) { addComment(input: $i) { result { rowId body createdAt } } }',
          { i: { taskId, body: 'bench comment' } },
        ),
      },
      normalise(server, data): CommentAnswer {
        if (server === 'groundwork')
          return (({ id, body }) => ({ id, body }))(required((data as GroundworkData).addComment, 'comment'));
        if (server === 'postgraphile')
          return (({ rowId, body }) => ({ id: rowId, body }))(
            required((data as PostGraphileData).addComment?.result, 'comment'),
          );
        return (({ id, body }) => ({ id, body }))(required(data as CommentAnswer | null, 'comment'));
      },
    },
  ];
}

/** The first place two normalised answers differ, as a path and both values; undefined when they are equal. */
export function firstDifference(left: unknown, right: unknown, path = '$'): string | undefined {
  if (left === right) return undefined;
  if (
    typeof left !== 'object' ||
    typeof right !== 'object' ||
    left === null ||
    right === null ||
    Array.isArray(left) !== Array.isArray(right)
  ) {
    return `${path}: ${JSON.stringify(left)} vs ${JSON.stringify(right)}`;
  }
  const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])];
  for (const key of keys) {
    const found = firstDifference(
      (left as Record<string, unknown>)[key],
      (right as Record<string, unknown>)[key],
      Array.isArray(left) ? `${path}[${key}]` : `${path}.${key}`,
    );
    if (found) return found;
  }
  return undefined;
}
