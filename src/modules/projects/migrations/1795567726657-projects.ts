import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Projects1795567726657 implements MigrationInterface {
  name = 'Projects1795567726657';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "projects" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "organization_id" uuid NOT NULL,
        "name" text NOT NULL,
        "description" text,
        "status" text NOT NULL DEFAULT 'ACTIVE',
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "projects_status_check" CHECK ("status" IN ('ACTIVE', 'ARCHIVED')),
        CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "projects_organization_id_created_at_id_idx" ON "projects" ("organization_id", "created_at", "id")`,
    );

    await queryRunner.query(`
      CREATE TABLE "tasks" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "project_id" uuid NOT NULL,
        "organization_id" uuid NOT NULL,
        "title" text NOT NULL,
        "description" text,
        "status" text NOT NULL DEFAULT 'TODO',
        "priority" integer NOT NULL DEFAULT 0,
        "due_date" timestamptz,
        "assignee_id" uuid,
        "created_by_id" uuid NOT NULL,
        "version" integer NOT NULL DEFAULT 1,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "tasks_priority_check" CHECK ("priority" BETWEEN 0 AND 4),
        CONSTRAINT "tasks_status_check" CHECK ("status" IN ('TODO', 'IN_PROGRESS', 'DONE')),
        CONSTRAINT "tasks_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "tasks_project_id_fkey" FOREIGN KEY ("project_id") REFERENCES "projects"("id") ON DELETE CASCADE
      )`);
    // Indexes for each TaskOrder over a project's tasks (keyset pages), and for the assignee filter.
    await queryRunner.query(
      `CREATE INDEX "tasks_project_id_created_at_id_idx" ON "tasks" ("project_id", "created_at", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "tasks_project_id_updated_at_id_idx" ON "tasks" ("project_id", "updated_at", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "tasks_project_id_priority_id_idx" ON "tasks" ("project_id", "priority", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "tasks_project_id_due_date_id_idx" ON "tasks" ("project_id", "due_date", "id")`,
    );
    await queryRunner.query(`CREATE INDEX "tasks_assignee_id_idx" ON "tasks" ("assignee_id")`);

    await queryRunner.query(`
      CREATE TABLE "comments" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "task_id" uuid NOT NULL,
        "organization_id" uuid NOT NULL,
        "author_id" uuid NOT NULL,
        "body" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "comments_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "comments_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE INDEX "comments_task_id_created_at_id_idx" ON "comments" ("task_id", "created_at", "id")`,
    );

    // Across modules: constraints, not ORM relations (so migration:generate offers to drop them; keep them).
    for (const statement of [
      `ALTER TABLE "projects" ADD CONSTRAINT "projects_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE`,
      `ALTER TABLE "tasks" ADD CONSTRAINT "tasks_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE`,
      `ALTER TABLE "tasks" ADD CONSTRAINT "tasks_assignee_id_fkey" FOREIGN KEY ("assignee_id") REFERENCES "users"("id") ON DELETE SET NULL`,
      `ALTER TABLE "tasks" ADD CONSTRAINT "tasks_created_by_id_fkey" FOREIGN KEY ("created_by_id") REFERENCES "users"("id")`,
      `ALTER TABLE "comments" ADD CONSTRAINT "comments_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE`,
      `ALTER TABLE "comments" ADD CONSTRAINT "comments_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users"("id")`,
    ]) {
      await queryRunner.query(statement);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "comments"`);
    await queryRunner.query(`DROP TABLE "tasks"`);
    await queryRunner.query(`DROP TABLE "projects"`);
  }
}
