import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Per-organization settings: whether accepting an invitation needs a verified email (off, as before). */
export class OrganizationSettings1796200000001 implements MigrationInterface {
  name = 'OrganizationSettings1796200000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "organizations" ADD "require_verified_email" boolean NOT NULL DEFAULT false`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "organizations" DROP COLUMN "require_verified_email"`);
  }
}
