import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The event bus's tables: the outbox, per-consumer "handled" records, inline retry state, the inline relay's lease. */
export class Events1795577769000 implements MigrationInterface {
  name = 'Events1795577769000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "outbox" (
        "position" bigserial NOT NULL,
        "id" uuid NOT NULL,
        "type" text NOT NULL,
        "occurred_at" timestamptz NOT NULL,
        "organization_id" uuid,
        "actor_id" uuid,
        "request_id" text,
        "subject_type" text NOT NULL,
        "subject_id" uuid NOT NULL,
        "data" jsonb NOT NULL,
        "relayed_at" timestamptz,
        CONSTRAINT "outbox_pkey" PRIMARY KEY ("position"),
        CONSTRAINT "outbox_id_key" UNIQUE ("id")
      )`);
    // The relay's only question is "what is not relayed yet, oldest first": a partial index keeps that cheap however long the history.
    await queryRunner.query(`CREATE INDEX "outbox_unrelayed_idx" ON "outbox" ("position") WHERE "relayed_at" IS NULL`);
    await queryRunner.query(
      `CREATE INDEX "outbox_relayed_at_idx" ON "outbox" ("relayed_at") WHERE "relayed_at" IS NOT NULL`,
    );

    await queryRunner.query(`
      CREATE TABLE "event_consumptions" (
        "consumer" text NOT NULL,
        "event_id" uuid NOT NULL,
        "handled_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "event_consumptions_pkey" PRIMARY KEY ("event_id", "consumer")
      )`);
    await queryRunner.query(`CREATE INDEX "event_consumptions_handled_at_idx" ON "event_consumptions" ("handled_at")`);

    await queryRunner.query(`
      CREATE TABLE "event_failures" (
        "consumer" text NOT NULL,
        "event_id" uuid NOT NULL,
        "attempts" integer NOT NULL,
        "last_error" text NOT NULL,
        "next_attempt_at" timestamptz NOT NULL,
        "dead_lettered_at" timestamptz,
        CONSTRAINT "event_failures_pkey" PRIMARY KEY ("event_id", "consumer")
      )`);

    await queryRunner.query(`
      CREATE TABLE "event_relay_leases" (
        "name" text NOT NULL,
        "holder" text,
        "expires_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "event_relay_leases_pkey" PRIMARY KEY ("name")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "event_relay_leases"`);
    await queryRunner.query(`DROP TABLE "event_failures"`);
    await queryRunner.query(`DROP TABLE "event_consumptions"`);
    await queryRunner.query(`DROP TABLE "outbox"`);
  }
}
