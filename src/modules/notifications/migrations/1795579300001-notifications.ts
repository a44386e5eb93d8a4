import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Notifications1795579300001 implements MigrationInterface {
  name = 'Notifications1795579300001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "notifications" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "organization_id" uuid NOT NULL,
        "event_id" uuid NOT NULL,
        "type" text NOT NULL,
        "message" text NOT NULL,
        "task_id" uuid,
        "read_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "notifications_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "notifications_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE,
        CONSTRAINT "notifications_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "notifications_event_id_user_id_key" ON "notifications" ("event_id", "user_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "notifications_user_id_created_at_id_idx" ON "notifications" ("user_id", "created_at", "id")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "notifications"`);
  }
}
