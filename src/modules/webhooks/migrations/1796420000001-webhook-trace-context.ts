import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The trace a delivery's attempts continue (the W3C traceparent of the event's), null when tracing is off. */
export class WebhookTraceContext1796420000001 implements MigrationInterface {
  name = 'WebhookTraceContext1796420000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "webhook_deliveries" ADD "trace_parent" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "webhook_deliveries" DROP COLUMN "trace_parent"`);
  }
}
