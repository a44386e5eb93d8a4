import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Account-level audit entries: an event that belongs to no organization (a password change, a deleted account) is
 * kept with organization_id NULL, read by its subject (the user) through a partial index. The table stays append-only.
 */
export class AccountAudit1796300000000 implements MigrationInterface {
  name = 'AccountAudit1796300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "audit_events" ALTER COLUMN "organization_id" DROP NOT NULL`);
    await queryRunner.query(
      `CREATE INDEX "audit_events_account_subject_id_occurred_at_id_idx" ON "audit_events" ("subject_id", "occurred_at", "id") WHERE "organization_id" IS NULL`,
    );
  }

  /** Fails while account entries exist: the log is append-only, so a revert never deletes them. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "audit_events_account_subject_id_occurred_at_id_idx"`);
    await queryRunner.query(`ALTER TABLE "audit_events" ALTER COLUMN "organization_id" SET NOT NULL`);
  }
}
