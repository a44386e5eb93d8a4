import { SingleBar, Presets } from 'cli-progress';
import type { DataSource, EntityManager } from 'typeorm';
import { hashPassword } from '../src/modules/identity/passwords';
import { runMigrations } from '../src/platform/database/migrate';
import { loadScriptConfig, scriptDataSource, scriptLogger } from './cli-support';
import { commentBody, SeededRandom, taskTitle } from './seed-data';

/**
 * `npm run db:seed` adds a demo organization for Sandbox; `-- --scale large`
 * adds 10 organizations, 1,000 users, 500 projects, 50,000 tasks and 100,000
 * comments, the same on every run. Both refuse a database that holds data
 * unless `-- --force`, which empties it first.
 */
export const SEED_PASSWORD = 'groundwork-demo';
const LARGE = {
  organizations: 10,
  usersPerOrganization: 100,
  projectsPerOrganization: 50,
  tasksPerProject: 100,
  commentsPerTask: 2,
};
const BASE_TIME = Date.parse('2026-01-01T00:00:00.000Z');
const CHUNK = 5000;
const TABLES = [
  'comments',
  'tasks',
  'projects',
  'invitations',
  'memberships',
  'organizations',
  'refresh_tokens',
  'users',
];

interface Users {
  ids: string[];
  emails: string[];
  names: string[];
}

async function main(): Promise<void> {
  const large = process.argv.includes('--scale') && process.argv[process.argv.indexOf('--scale') + 1] === 'large';
  const force = process.argv.includes('--force');
  const config = loadScriptConfig();
  const logger = scriptLogger(config);
  const dataSource = await scriptDataSource(config, logger);
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
    const [{ n }] = (await dataSource.query('SELECT count(*)::int AS n FROM users')) as { n: number }[];
    if (n > 0 && !force) {
      process.stderr.write(
        `The database already holds ${n} user(s); seeding refuses to mix with real data. Add -- --force to empty it first.\n`,
      );
      process.exitCode = 1;
      return;
    }
    if (n > 0) await dataSource.query(`TRUNCATE ${TABLES.join(', ')} CASCADE`);
    const startedAt = Date.now();
    await (large ? seedLarge(dataSource) : seedDemo(dataSource, config.PASSWORD_HASH_COST));
    process.stdout.write(`seeded in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
  } finally {
    await dataSource.destroy();
  }
}

async function seedDemo(dataSource: DataSource, cost: number): Promise<void> {
  const random = new SeededRandom(7);
  const passwordHash = await hashPassword(SEED_PASSWORD, cost);
  const people = [
    { name: 'Alice Owner', email: 'alice@example.com', role: 'OWNER' },
    { name: 'Bob Admin', email: 'bob@example.com', role: 'ADMIN' },
    { name: 'Carol Member', email: 'carol@example.com', role: 'MEMBER' },
  ];
  await dataSource.transaction(async (manager) => {
    const users = {
      ids: people.map(() => random.uuid()),
      emails: people.map((p) => p.email),
      names: people.map((p) => p.name),
    };
    await insertUsers(manager, users, passwordHash, 0);
    const organizationId = random.uuid();
    await manager.query(
      `INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES ($1, 'Acme', 'acme', $2, $2)`,
      [organizationId, new Date(BASE_TIME)],
    );
    for (const [index, person] of people.entries()) {
      await manager.query(
        `INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)`,
        [organizationId, users.ids[index], person.role, new Date(BASE_TIME + index * 1000)],
      );
    }
    for (const [p, name] of ['Website relaunch', 'Mobile app', 'Q3 planning'].entries()) {
      const projectId = random.uuid();
      await manager.query(
        `INSERT INTO projects (id, organization_id, name, description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
        [projectId, organizationId, name, `Demo project ${p + 1}`, new Date(BASE_TIME + p * 60_000)],
      );
      for (let t = 0; t < 8; t += 1) {
        const taskId = random.uuid();
        const created = new Date(BASE_TIME + p * 60_000 + t * 1000);
        await manager.query(
          `INSERT INTO tasks (id, project_id, organization_id, title, status, priority, assignee_id, created_by_id, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
          [
            taskId,
            projectId,
            organizationId,
            taskTitle(random),
            random.pick(['TODO', 'IN_PROGRESS', 'DONE']),
            random.int(5),
            random.pick(users.ids),
            users.ids[0],
            created,
          ],
        );
        await manager.query(
          `INSERT INTO comments (task_id, organization_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)`,
          [taskId, organizationId, random.pick(users.ids), commentBody(random), created],
        );
      }
    }
  });
  process.stdout.write(
    `Demo organization "Acme" with 3 projects. Log in (password "${SEED_PASSWORD}") as:\n${people
      .map((person) => `  ${person.email}  (${person.role})`)
      .join('\n')}\n`,
  );
}

async function seedLarge(dataSource: DataSource): Promise<void> {
  const random = new SeededRandom(42);
  // One hash for every generated user: hashing 1,000 passwords at full cost would take minutes.
  const passwordHash = await hashPassword(SEED_PASSWORD, 12);
  const totals = {
    users: LARGE.organizations * LARGE.usersPerOrganization,
    projects: LARGE.organizations * LARGE.projectsPerOrganization,
  };
  const taskCount = totals.projects * LARGE.tasksPerProject;
  const bar = new SingleBar(
    { format: 'seeding {bar} {percentage}% | {value}/{total} rows | {stage}' },
    Presets.shades_classic,
  );
  bar.start(totals.users * 2 + LARGE.organizations + totals.projects + taskCount * (1 + LARGE.commentsPerTask), 0, {
    stage: 'users',
  });

  await dataSource.transaction(async (manager) => {
    const users: Users = { ids: [], emails: [], names: [] };
    for (let u = 0; u < totals.users; u += 1) {
      users.ids.push(random.uuid());
      users.emails.push(`user${u}@org${Math.floor(u / LARGE.usersPerOrganization)}.example.com`);
      users.names.push(`User ${u}`);
    }
    await insertUsers(manager, users, passwordHash, 0);
    bar.increment(totals.users, { stage: 'organizations' });

    const organizationIds = Array.from({ length: LARGE.organizations }, () => random.uuid());
    await insertRows(
      manager,
      'organizations (id, name, slug, created_at, updated_at)',
      ['uuid', 'text', 'text', 'timestamptz', 'timestamptz'],
      [
        organizationIds,
        organizationIds.map((_, o) => `Organization ${o}`),
        organizationIds.map((_, o) => `org-${o}`),
        organizationIds.map((_, o) => new Date(BASE_TIME + o * 1000)),
        organizationIds.map((_, o) => new Date(BASE_TIME + o * 1000)),
      ],
    );
    bar.increment(LARGE.organizations, { stage: 'memberships' });

    const memberOf = (o: number) =>
      users.ids.slice(o * LARGE.usersPerOrganization, (o + 1) * LARGE.usersPerOrganization);
    await insertRows(
      manager,
      'memberships (organization_id, user_id, role, created_at)',
      ['uuid', 'uuid', 'text', 'timestamptz'],
      [
        users.ids.map((_, u) => organizationIds[Math.floor(u / LARGE.usersPerOrganization)]),
        users.ids,
        users.ids.map((_, u) =>
          u % LARGE.usersPerOrganization === 0 ? 'OWNER' : u % LARGE.usersPerOrganization < 5 ? 'ADMIN' : 'MEMBER',
        ),
        users.ids.map((_, u) => new Date(BASE_TIME + u * 1000)),
      ],
    );
    bar.increment(totals.users, { stage: 'projects' });

    const projects = { ids: [] as string[], organizations: [] as number[] };
    for (let o = 0; o < LARGE.organizations; o += 1) {
      for (let p = 0; p < LARGE.projectsPerOrganization; p += 1) {
        projects.ids.push(random.uuid());
        projects.organizations.push(o);
      }
    }
    await insertRows(
      manager,
      'projects (id, organization_id, name, created_at, updated_at)',
      ['uuid', 'uuid', 'text', 'timestamptz', 'timestamptz'],
      [
        projects.ids,
        projects.organizations.map((o) => organizationIds[o]),
        projects.ids.map((_, p) => `Project ${p}`),
        projects.ids.map((_, p) => new Date(BASE_TIME + p * 60_000)),
        projects.ids.map((_, p) => new Date(BASE_TIME + p * 60_000)),
      ],
    );
    bar.increment(totals.projects, { stage: 'tasks and comments' });

    for (let p = 0; p < projects.ids.length; p += CHUNK / LARGE.tasksPerProject) {
      const batch = projects.ids.slice(p, p + CHUNK / LARGE.tasksPerProject);
      const task = {
        ids: [] as string[],
        project: [] as string[],
        org: [] as string[],
        title: [] as string[],
        status: [] as string[],
        priority: [] as number[],
        due: [] as (Date | null)[],
        assignee: [] as (string | null)[],
        creator: [] as string[],
        created: [] as Date[],
      };
      const comment = {
        task: [] as string[],
        org: [] as string[],
        author: [] as string[],
        body: [] as string[],
        created: [] as Date[],
      };
      for (const [offset, projectId] of batch.entries()) {
        const o = projects.organizations[p + offset];
        const members = memberOf(o);
        for (let t = 0; t < LARGE.tasksPerProject; t += 1) {
          const id = random.uuid();
          const created = new Date(BASE_TIME + (p + offset) * 60_000 + t * 500);
          task.ids.push(id);
          task.project.push(projectId);
          task.org.push(organizationIds[o]);
          task.title.push(taskTitle(random));
          task.status.push(random.pick(['TODO', 'TODO', 'IN_PROGRESS', 'DONE']));
          task.priority.push(random.int(5));
          task.due.push(random.next() < 0.4 ? new Date(BASE_TIME + random.int(365) * 86_400_000) : null);
          task.assignee.push(random.next() < 0.8 ? random.pick(members) : null);
          task.creator.push(random.pick(members));
          task.created.push(created);
          for (let c = 0; c < LARGE.commentsPerTask; c += 1) {
            comment.task.push(id);
            comment.org.push(organizationIds[o]);
            comment.author.push(random.pick(members));
            comment.body.push(commentBody(random));
            comment.created.push(new Date(created.getTime() + (c + 1) * 60_000));
          }
        }
      }
      await insertRows(
        manager,
        'tasks (id, project_id, organization_id, title, status, priority, due_date, assignee_id, created_by_id, created_at, updated_at)',
        ['uuid', 'uuid', 'uuid', 'text', 'text', 'int', 'timestamptz', 'uuid', 'uuid', 'timestamptz', 'timestamptz'],
        [
          task.ids,
          task.project,
          task.org,
          task.title,
          task.status,
          task.priority,
          task.due,
          task.assignee,
          task.creator,
          task.created,
          task.created,
        ],
      );
      bar.increment(task.ids.length);
      await insertRows(
        manager,
        'comments (task_id, organization_id, author_id, body, created_at)',
        ['uuid', 'uuid', 'uuid', 'text', 'timestamptz'],
        [comment.task, comment.org, comment.author, comment.body, comment.created],
      );
      bar.increment(comment.task.length);
    }
  });
  bar.stop();
  process.stdout.write(
    `Large seed: ${LARGE.organizations} organizations, ${totals.users} users, ${totals.projects} projects, ${taskCount} tasks, ${taskCount * LARGE.commentsPerTask} comments.\n` +
      `Log in as user5@org0.example.com (MEMBER of "Organization 0"), password "${SEED_PASSWORD}".\n`,
  );
}

async function insertUsers(
  manager: EntityManager,
  users: Users,
  passwordHash: string,
  offsetSeconds: number,
): Promise<void> {
  await insertRows(
    manager,
    'users (id, email, name, password_hash, created_at, updated_at)',
    ['uuid', 'text', 'text', 'text', 'timestamptz', 'timestamptz'],
    [
      users.ids,
      users.emails,
      users.names,
      users.ids.map(() => passwordHash),
      users.ids.map((_, u) => new Date(BASE_TIME + (offsetSeconds + u) * 1000)),
      users.ids.map((_, u) => new Date(BASE_TIME + (offsetSeconds + u) * 1000)),
    ],
  );
}

/** Inserts column arrays in chunks, as one `INSERT ... SELECT FROM unnest(...)` per chunk. */
async function insertRows(
  manager: EntityManager,
  target: string,
  types: string[],
  columns: unknown[][],
): Promise<void> {
  const rows = columns[0].length;
  for (let start = 0; start < rows; start += CHUNK) {
    const slice = columns.map((column) => column.slice(start, start + CHUNK));
    const unnest = types.map((type, index) => `$${index + 1}::${type}[]`).join(', ');
    await manager.query(`INSERT INTO ${target} SELECT * FROM unnest(${unnest})`, slice);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`seeding failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
