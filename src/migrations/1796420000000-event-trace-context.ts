import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The W3C traceparent of the span that wrote each event (null when tracing
 * is off), so a consumer running later, on any instance, continues the
 * request's trace.
 */
export class EventTraceContext1796420000000 implements MigrationInterface {
  name = 'EventTraceContext1796420000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "outbox" ADD "trace_parent" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "outbox" DROP COLUMN "trace_parent"`);
  }
}
