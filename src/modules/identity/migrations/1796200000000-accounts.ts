import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts: verified emails, deleted accounts (a tombstone row keeps what they
 * wrote attributable to "former member"), sessions (one row per refresh-token
 * family, backfilled from the families that exist) and the single-use tokens
 * mailed for verification, password reset and email change (SHA-256 only).
 */
export class Accounts1796200000000 implements MigrationInterface {
  name = 'Accounts1796200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "email_verified" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`ALTER TABLE "users" ADD "deleted_at" timestamptz`);

    await queryRunner.query(`
      CREATE TABLE "sessions" (
        "id" uuid NOT NULL,
        "user_id" uuid NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_used_at" timestamptz NOT NULL DEFAULT now(),
        "expires_at" timestamptz NOT NULL,
        "user_agent" text,
        "ip" text,
        "revoked_at" timestamptz,
        CONSTRAINT "sessions_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "sessions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "sessions_user_id_idx" ON "sessions" ("user_id")`);
    await queryRunner.query(`
      INSERT INTO "sessions" ("id", "user_id", "created_at", "last_used_at", "expires_at", "revoked_at")
      SELECT "family_id", (array_agg("user_id"))[1], min("created_at"), max(coalesce("used_at", "created_at")), max("expires_at"),
             CASE WHEN bool_or("used_at" IS NULL AND "revoked_at" IS NULL) THEN NULL ELSE max(coalesce("revoked_at", "used_at")) END
        FROM "refresh_tokens" GROUP BY "family_id"`);
    await queryRunner.query(
      `ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_family_id_fkey" FOREIGN KEY ("family_id") REFERENCES "sessions"("id") ON DELETE CASCADE`,
    );

    await queryRunner.query(`
      CREATE TABLE "account_tokens" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "purpose" text NOT NULL,
        "token_hash" text NOT NULL,
        "email" text NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "used_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "account_tokens_purpose_check" CHECK ("purpose" IN ('verify_email', 'reset_password', 'change_email')),
        CONSTRAINT "account_tokens_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "account_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "account_tokens_token_hash_key" ON "account_tokens" ("token_hash")`);
    await queryRunner.query(
      `CREATE INDEX "account_tokens_user_id_purpose_idx" ON "account_tokens" ("user_id", "purpose")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "account_tokens"`);
    await queryRunner.query(`ALTER TABLE "refresh_tokens" DROP CONSTRAINT "refresh_tokens_family_id_fkey"`);
    await queryRunner.query(`DROP TABLE "sessions"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "deleted_at"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "email_verified"`);
  }
}
