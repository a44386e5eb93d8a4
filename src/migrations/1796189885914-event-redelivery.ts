import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the Redis Streams transport needs to relay again an event Redis lost:
 * the stream entry each row went out as, and when every consumer was done
 * with it (settled). Until then a row is the record, whatever Redis holds.
 */
export class EventRedelivery1796189885914 implements MigrationInterface {
  name = 'EventRedelivery1796189885914';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "outbox" ADD "stream_id" text, ADD "settled_at" timestamptz`);
    // Rows relayed before this migration are taken as settled: their stream entries carry no id to check them by.
    await queryRunner.query(`UPDATE "outbox" SET "settled_at" = "relayed_at" WHERE "relayed_at" IS NOT NULL`);
    // The redelivery check reads only rows relayed and not settled: the backlog and the last few seconds, however long the history.
    await queryRunner.query(
      `CREATE INDEX "outbox_unsettled_idx" ON "outbox" ("position") WHERE "relayed_at" IS NOT NULL AND "settled_at" IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "outbox_unsettled_idx"`);
    await queryRunner.query(`ALTER TABLE "outbox" DROP COLUMN "settled_at", DROP COLUMN "stream_id"`);
  }
}
