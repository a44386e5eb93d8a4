import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerName } from './bench-scenarios';
import { root, withClient } from './process-support';

/**
 * What `npm run bench` needs for its PostGraphile column, kept out of the
 * project's dependencies: Node 22 (the npm `node` package) and PostGraphile v5
 * with its core packages, each pinned here and installed on first use under
 * .bench/ (git-ignored); and, in the bench database, the role, row-level
 * security policies and the addComment function PostGraphile serves through.
 */
export const NODE_VERSION = '22.23.3';
const POSTGRAPHILE_PACKAGES = [
  'postgraphile@5.1.5',
  'grafast@1.1.3',
  'grafserv@1.0.2',
  '@dataplan/pg@1.1.2',
  '@dataplan/json@1.0.1',
  'graphile-build@5.1.1',
  'graphile-build-pg@5.1.4',
  'graphile-config@1.1.1',
  'graphile-utils@5.0.3',
  'pg-sql2@5.0.1',
  'pg@8.23.1',
  'graphql@16.15.0',
  'jsonwebtoken@9.0.3',
];
export const MEMBER_ROLE = 'groundwork_bench_member';
const BENCH_DIR = join(root, '.bench');

/** A pinned install under .bench/<folder>: done once, redone when a pin changed; answers the failure, if any, in one line. */
function install(folder: string, packages: string[]): string | undefined {
  const prefix = join(BENCH_DIR, folder);
  const installed = (spec: string) => {
    const at = spec.lastIndexOf('@');
    const file = join(prefix, 'node_modules', spec.slice(0, at), 'package.json');
    return (
      existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version === spec.slice(at + 1)
    );
  };
  if (packages.every(installed)) return undefined;
  process.stdout.write(`installing ${packages.join(' ')} into .bench/${folder} (first run only)...\n`);
  mkdirSync(prefix, { recursive: true });
  try {
    execFileSync(
      'npm',
      ['install', '--prefix', prefix, '--save-exact', '--no-audit', '--no-fund', '--loglevel', 'error', ...packages],
      { cwd: prefix, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (error) {
    const lines = ((error as { stderr?: Buffer }).stderr?.toString() ?? '')
      .split('\n')
      .map((line) => line.replace(/^npm (error|ERR!) /, '').trim());
    const why = [
      lines.find((line) => line.startsWith('code ')),
      lines.find((line) => /request to|404|No matching version|ETARGET|EACCES|ENOSPC/.test(line)),
    ].filter(Boolean);
    return `npm install into .bench/${folder} failed (${why.join('; ') || lines.filter(Boolean).slice(0, 2).join(' ') || String(error)})`;
  }
  return packages.every(installed)
    ? undefined
    : `npm install into .bench/${folder} finished but ${packages.find((spec) => !installed(spec))} is not there`;
}

/** The pinned Node 22 binary, installed through the npm `node` package; or why it is missing. */
export function ensureNode22(): { node: string } | { problem: string } {
  const problem = install('node', [`node@${NODE_VERSION}`]);
  const node = join(BENCH_DIR, 'node', 'node_modules', 'node', 'bin', 'node');
  if (problem) return { problem };
  try {
    const version = execFileSync(node, ['--version']).toString().trim();
    return version === `v${NODE_VERSION}` ? { node } : { problem: `${node} is ${version}, not v${NODE_VERSION}` };
  } catch (error) {
    // npm may have skipped the package's install script, which fetches the binary (node-<platform>-<arch>).
    return {
      problem: `the node@${NODE_VERSION} package installed no runnable binary (${String(error).split('\n')[0]})`,
    };
  }
}

/** The folder PostGraphile is installed in (for the server's require), or why it could not be. */
export function ensurePostGraphile(): { modules: string } | { problem: string } {
  const problem = install('postgraphile', POSTGRAPHILE_PACKAGES);
  return problem ? { problem } : { modules: join(BENCH_DIR, 'postgraphile') };
}

// Cast, so ANY reads an array, not a sub-select; the scalar sub-select runs once per statement (an InitPlan), not per row.
const ORGS = '(SELECT postgraphile_private.viewer_organization_ids())::uuid[]';

/**
 * groundwork's authorization as PostgreSQL sees it: a member reads the rows of
 * the organizations it belongs to, and the users who share one with it; it
 * comments as itself on a task of its organizations whose project is active.
 * groundwork connects as the table owner (or a superuser), which these policies
 * do not apply to. Idempotent: run before every bench.
 */
const SETUP_SQL = `
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${MEMBER_ROLE}') THEN CREATE ROLE ${MEMBER_ROLE} NOLOGIN; END IF;
END $$;
GRANT ${MEMBER_ROLE} TO CURRENT_USER;
CREATE SCHEMA IF NOT EXISTS postgraphile_private;
CREATE SCHEMA IF NOT EXISTS postgraphile_api;

CREATE OR REPLACE FUNCTION postgraphile_private.viewer_id() RETURNS uuid LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('jwt.claims.sub', true), '')::uuid $$;
-- SECURITY DEFINER: the policies below ask for the viewer's organizations without recursing into the memberships policy.
CREATE OR REPLACE FUNCTION postgraphile_private.viewer_organization_ids() RETURNS uuid[] LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
  AS $$ SELECT coalesce(array_agg(organization_id), '{}') FROM memberships WHERE user_id = postgraphile_private.viewer_id() $$;

-- groundwork's addComment: the author is the viewer, the organization the task's, the body trimmed, archived projects refused.
CREATE OR REPLACE FUNCTION postgraphile_api.add_comment(task_id uuid, body text) RETURNS public.comments LANGUAGE plpgsql VOLATILE STRICT
  SET search_path = public, pg_temp
  AS $$
DECLARE added public.comments;
BEGIN
  INSERT INTO public.comments (task_id, organization_id, author_id, body)
    SELECT t.id, t.organization_id, postgraphile_private.viewer_id(), btrim($2)
      FROM public.tasks t JOIN public.projects p ON p.id = t.project_id
     WHERE t.id = $1 AND p.status = 'ACTIVE'
  RETURNING * INTO added;
  IF NOT FOUND THEN RAISE EXCEPTION 'Task not found' USING ERRCODE = 'P0002'; END IF;
  RETURN added;
END $$;
COMMENT ON FUNCTION postgraphile_api.add_comment(uuid, text) IS E'@name add_comment\nComments on a task as the viewer.';

GRANT USAGE ON SCHEMA public, postgraphile_private, postgraphile_api TO ${MEMBER_ROLE};
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA postgraphile_private, postgraphile_api TO ${MEMBER_ROLE};
GRANT SELECT ON organizations, memberships, projects, tasks, comments TO ${MEMBER_ROLE};
GRANT SELECT (id, name) ON users TO ${MEMBER_ROLE};
GRANT INSERT (task_id, organization_id, author_id, body) ON comments TO ${MEMBER_ROLE};

ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS bench_member ON organizations;
CREATE POLICY bench_member ON organizations FOR SELECT TO ${MEMBER_ROLE} USING (id = ANY (${ORGS}));
DROP POLICY IF EXISTS bench_member ON memberships;
CREATE POLICY bench_member ON memberships FOR SELECT TO ${MEMBER_ROLE} USING (organization_id = ANY (${ORGS}));
DROP POLICY IF EXISTS bench_member ON projects;
CREATE POLICY bench_member ON projects FOR SELECT TO ${MEMBER_ROLE} USING (organization_id = ANY (${ORGS}));
DROP POLICY IF EXISTS bench_member ON tasks;
CREATE POLICY bench_member ON tasks FOR SELECT TO ${MEMBER_ROLE} USING (organization_id = ANY (${ORGS}));
DROP POLICY IF EXISTS bench_member ON comments;
CREATE POLICY bench_member ON comments FOR SELECT TO ${MEMBER_ROLE} USING (organization_id = ANY (${ORGS}));
DROP POLICY IF EXISTS bench_author ON comments;
CREATE POLICY bench_author ON comments FOR INSERT TO ${MEMBER_ROLE}
  WITH CHECK (author_id = (SELECT postgraphile_private.viewer_id()) AND organization_id = ANY (${ORGS}));
DROP POLICY IF EXISTS bench_member ON users;
CREATE POLICY bench_member ON users FOR SELECT TO ${MEMBER_ROLE} USING (
  id = (SELECT postgraphile_private.viewer_id())
  OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.organization_id = ANY (${ORGS})));
`;

export async function preparePostGraphileDatabase(url: string): Promise<void> {
  await withClient(url, async (client) => {
    await client.query('BEGIN');
    try {
      await client.query(SETUP_SQL);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    }
  });
}

/** The Node the servers run on (undefined: this process's) and where PostGraphile is installed (undefined: not benchmarked). */
export interface Runtimes {
  node?: string;
  postgraphile?: string;
}

/** Which Node runs the servers, and whether PostGraphile can be one of them; says so when something is missing. */
export async function prepareRuntimes(servers: readonly ServerName[], benchUrl: string): Promise<Runtimes> {
  const node22 = ensureNode22();
  const currentMajor = Number(process.versions.node.split('.')[0]);
  if ('problem' in node22)
    process.stdout.write(
      `Node ${NODE_VERSION} unavailable (${node22.problem}); the servers run on this Node, ${process.version}.\n`,
    );
  const node = 'node' in node22 ? node22.node : undefined;
  if (!servers.includes('postgraphile')) return { node };
  const skip = (why: string) => {
    process.stdout.write(`\nPostGraphile SKIPPED: ${why}. Benchmarking the other servers only.\n\n`);
    return { node };
  };
  if (!node && currentMajor < 22) return skip(`it needs Node 22+ and this is ${process.version}`);
  const installed = ensurePostGraphile();
  if ('problem' in installed) return skip(installed.problem);
  try {
    await preparePostGraphileDatabase(benchUrl);
  } catch (error) {
    return skip(
      `setting up its role and row-level security in ${new URL(benchUrl).pathname.slice(1)} failed: ${String(error)}`,
    );
  }
  return { node, postgraphile: installed.modules };
}
