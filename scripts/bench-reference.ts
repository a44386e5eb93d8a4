import { createSecretKey } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { jwtVerify } from 'jose';
import { Pool } from 'pg';
import { serveForBench } from './bench-serve';

/**
 * The limit the benchmark measures groundwork against: node:http and pg, one
 * named prepared statement per request with PostgreSQL building the JSON, the
 * bearer token verified (groundwork's own access token: HS256, issuer,
 * audience, type) and membership checked inside that statement. No GraphQL,
 * no ORM. Run by `npm run bench` with DATABASE_URL, PORT and the JWT_* settings.
 */
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
// A key object built once: from bytes, jose would build one per verification.
const key = createSecretKey(Buffer.from(process.env.JWT_SECRET ?? ''));
const verifyOptions = {
  algorithms: ['HS256'],
  issuer: process.env.JWT_ISSUER ?? 'groundwork',
  audience: process.env.JWT_AUDIENCE ?? 'groundwork-api',
  typ: 'at+jwt',
};
const MEMBER = (organization: string) =>
  `EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = ${organization} AND m.user_id = $2)`;
const USER = (alias: string) =>
  `CASE WHEN ${alias}.id IS NULL THEN NULL ELSE json_build_object('id', ${alias}.id, 'name', ${alias}.name) END`;

const TASK = `SELECT json_build_object('id', t.id, 'title', t.title, 'status', t.status, 'assignee', ${USER('u')})::text AS data
  FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id WHERE t.id = $1 AND ${MEMBER('t.organization_id')}`;

const NESTED = `SELECT coalesce(json_agg(json_build_object('id', p.id, 'name', p.name, 'tasks', coalesce(tasks.list, '[]')) ORDER BY p.created_at DESC, p.id DESC), '[]')::text AS data
  FROM (SELECT id, name, created_at FROM projects WHERE organization_id = $1 AND ${MEMBER('$1')} ORDER BY created_at DESC, id DESC LIMIT $3) p
  LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('id', t.id, 'title', t.title, 'assignee', ${USER('u')}) ORDER BY t.created_at, t.id) AS list
      FROM (SELECT id, title, assignee_id, created_at FROM tasks WHERE project_id = p.id ORDER BY created_at, id LIMIT $4) t
      LEFT JOIN users u ON u.id = t.assignee_id) tasks ON true`;

const ADD_COMMENT = `INSERT INTO comments (task_id, organization_id, author_id, body)
  SELECT t.id, t.organization_id, $2, btrim($3) FROM tasks t JOIN projects p ON p.id = t.project_id
   WHERE t.id = $1 AND p.status = 'ACTIVE' AND ${MEMBER('t.organization_id')}
  RETURNING json_build_object('id', id, 'body', body, 'createdAt', created_at)::text AS data`;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(request: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>;
}

async function viewerId(request: IncomingMessage): Promise<string> {
  const [scheme, token] = (request.headers.authorization ?? '').split(' ');
  if (scheme?.toLowerCase() !== 'bearer' || !token) throw new HttpError(401, 'no bearer token');
  try {
    const { payload } = await jwtVerify(token, key, verifyOptions);
    if (typeof payload.sub === 'string') return payload.sub;
  } catch {
    // Falls through to the same answer as a token without a subject.
  }
  throw new HttpError(401, 'invalid token');
}

/** The statement's one JSON text, or 404 when it found nothing (absent, or not the viewer's organization). */
async function answer(name: string, text: string, values: unknown[]): Promise<string> {
  const { rows } = await pool.query<{ data: string }>({ name, text, values });
  if (!rows[0]) throw new HttpError(404, 'not found');
  return rows[0].data;
}

async function route(request: IncomingMessage): Promise<string> {
  const [user, body] = await Promise.all([viewerId(request), readJson(request)]);
  switch (request.url) {
    case '/task':
      return answer('task', TASK, [body.id, user]);
    case '/nested':
      return answer('nested', NESTED, [body.organizationId, user, 20, 10]);
    case '/comment':
      return answer('comment', ADD_COMMENT, [body.taskId, user, body.body]);
    default:
      throw new HttpError(404, `unknown route ${request.url}`);
  }
}

const server = createServer((request, response) => {
  route(request).then(
    (data) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(`{"data":${data}}`);
    },
    (error: Error) => {
      response.writeHead(error instanceof HttpError ? error.status : 500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: error.message }));
    },
  );
});

serveForBench(server, 'reference', () => pool.end());
