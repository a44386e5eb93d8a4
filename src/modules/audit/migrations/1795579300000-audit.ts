import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit log: one row per domain event, append-only (a trigger refuses UPDATE and DELETE). */
export class Audit1795579300000 implements MigrationInterface {
  name = 'Audit1795579300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "audit_events" (
        "id" uuid NOT NULL,
        "organization_id" uuid NOT NULL,
        "type" text NOT NULL,
        "actor_id" uuid,
        "subject_type" text NOT NULL,
        "subject_id" uuid NOT NULL,
        "data" jsonb NOT NULL,
        "request_id" text,
        "occurred_at" timestamptz NOT NULL,
        "recorded_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "audit_events_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "audit_events_organization_id_occurred_at_id_idx" ON "audit_events" ("organization_id", "occurred_at", "id")`,
    );
    await queryRunner.query(`
      CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER "audit_events_append_only" BEFORE UPDATE OR DELETE ON "audit_events"
      FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_events"`);
    await queryRunner.query(`DROP FUNCTION "audit_events_append_only"()`);
  }
}
