import { createServer, type IncomingMessage } from 'node:http';
import { Pool } from 'pg';

/**
 * The floor the benchmark measures groundwork against: node:http and pg, one
 * hand-written SQL per request, no GraphQL, no ORM, no authentication.
 * Run by `npm run bench` with DATABASE_URL and PORT.
 */
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });

const TASK = `SELECT t.id, t.title, t.status, json_build_object('id', u.id, 'name', u.name) AS assignee
  FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id WHERE t.id = $1`;

const NESTED = `SELECT p.id, p.name, coalesce(tasks.list, '[]') AS tasks
  FROM (SELECT id, name, created_at FROM projects WHERE organization_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2) p
  LEFT JOIN LATERAL (
    SELECT json_agg(json_build_object('title', t.title, 'assignee', json_build_object('name', u.name)) ORDER BY t.created_at, t.id) AS list
      FROM (SELECT * FROM tasks WHERE project_id = p.id ORDER BY created_at, id LIMIT $3) t
      LEFT JOIN users u ON u.id = t.assignee_id) tasks ON true
  ORDER BY p.created_at DESC, p.id DESC`;

const ADD_COMMENT = `INSERT INTO comments (task_id, organization_id, author_id, body)
  SELECT id, organization_id, $2, $3 FROM tasks WHERE id = $1 RETURNING id, body, created_at`;

async function readJson(request: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>;
}

const server = createServer((request, response) => {
  readJson(request)
    .then(async (body) => {
      switch (request.url) {
        case '/task':
          return (await pool.query(TASK, [body.id])).rows[0];
        case '/nested':
          return (await pool.query(NESTED, [body.organizationId, 20, 10])).rows;
        case '/comment':
          return (await pool.query(ADD_COMMENT, [body.taskId, body.authorId, body.body])).rows[0];
        default:
          throw new Error(`unknown route ${request.url}`);
      }
    })
    .then(
      (data) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ data }));
      },
      (error: Error) => {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: error.message }));
      },
    );
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`reference ready on ${typeof address === 'object' && address ? address.port : ''}\n`);
});
process.on('SIGTERM', () => server.close(() => void pool.end().then(() => process.exit(0))));
