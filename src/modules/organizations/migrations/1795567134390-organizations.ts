import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Organizations1795567134390 implements MigrationInterface {
  name = 'Organizations1795567134390';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "organizations" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" text NOT NULL,
        "slug" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "organizations_pkey" PRIMARY KEY ("id")
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "organizations_slug_key" ON "organizations" ("slug")`);

    await queryRunner.query(`
      CREATE TABLE "memberships" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "organization_id" uuid NOT NULL,
        "user_id" uuid NOT NULL,
        "role" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "memberships_role_check" CHECK ("role" IN ('OWNER', 'ADMIN', 'MEMBER')),
        CONSTRAINT "memberships_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "memberships_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
      )`);
    // Across modules: a constraint, not an ORM relation (so migration:generate offers to drop it; keep it).
    await queryRunner.query(
      `ALTER TABLE "memberships" ADD CONSTRAINT "memberships_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "memberships_organization_id_user_id_key" ON "memberships" ("organization_id", "user_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "memberships_organization_id_created_at_id_idx" ON "memberships" ("organization_id", "created_at", "id")`,
    );
    await queryRunner.query(`CREATE INDEX "memberships_user_id_idx" ON "memberships" ("user_id")`);

    await queryRunner.query(`
      CREATE TABLE "invitations" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "organization_id" uuid NOT NULL,
        "email" text NOT NULL,
        "role" text NOT NULL,
        "token_hash" text NOT NULL,
        "invited_by_user_id" uuid NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "accepted_at" timestamptz,
        "revoked_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "invitations_role_check" CHECK ("role" IN ('OWNER', 'ADMIN', 'MEMBER')),
        CONSTRAINT "invitations_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "invitations_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `ALTER TABLE "invitations" ADD CONSTRAINT "invitations_invited_by_user_id_fkey" FOREIGN KEY ("invited_by_user_id") REFERENCES "users"("id") ON DELETE CASCADE`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "invitations_token_hash_key" ON "invitations" ("token_hash")`);
    await queryRunner.query(
      `CREATE INDEX "invitations_organization_id_email_idx" ON "invitations" ("organization_id", "email")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "invitations"`);
    await queryRunner.query(`DROP TABLE "memberships"`);
    await queryRunner.query(`DROP TABLE "organizations"`);
  }
}
