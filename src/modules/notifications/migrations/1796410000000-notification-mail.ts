import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Mail of notifications: per-user preferences, digests (one mail per user per window) and the link from a notification to its digest. */
export class NotificationMail1796410000000 implements MigrationInterface {
  name = 'NotificationMail1796410000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "notification_mail_preferences" (
        "user_id" uuid NOT NULL,
        "type" text NOT NULL,
        "mail" boolean NOT NULL,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "notification_mail_preferences_pkey" PRIMARY KEY ("user_id", "type"),
        CONSTRAINT "notification_mail_preferences_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`
      CREATE TABLE "notification_digests" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "status" text NOT NULL DEFAULT 'OPEN',
        "due_at" timestamptz NOT NULL,
        "attempts" integer NOT NULL DEFAULT 0,
        "claimed_until" timestamptz,
        "handed_at" timestamptz,
        "message_id" text,
        "last_error" text,
        "sent_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "notification_digests_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "notification_digests_status_check"
          CHECK ("status" IN ('OPEN', 'SENDING', 'RETRYING', 'SENT', 'FAILED', 'UNCERTAIN', 'SKIPPED')),
        CONSTRAINT "notification_digests_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
      )`);
    // One digest collects a user's notifications at a time: the unique index is what two consumers meet on.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "notification_digests_open_user_id_key" ON "notification_digests" ("user_id") WHERE "status" = 'OPEN'`,
    );
    await queryRunner.query(
      `CREATE INDEX "notification_digests_due_idx" ON "notification_digests" ("due_at") WHERE "status" IN ('OPEN', 'RETRYING')`,
    );
    await queryRunner.query(
      `CREATE INDEX "notification_digests_claimed_idx" ON "notification_digests" ("claimed_until") WHERE "status" = 'SENDING'`,
    );
    await queryRunner.query(`CREATE INDEX "notification_digests_user_id_idx" ON "notification_digests" ("user_id")`);
    await queryRunner.query(`ALTER TABLE "notifications" ADD COLUMN "mail_digest_id" uuid`);
    await queryRunner.query(
      `ALTER TABLE "notifications" ADD CONSTRAINT "notifications_mail_digest_id_fkey" FOREIGN KEY ("mail_digest_id") REFERENCES "notification_digests"("id") ON DELETE SET NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "notifications_mail_digest_id_idx" ON "notifications" ("mail_digest_id") WHERE "mail_digest_id" IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "notifications" DROP COLUMN "mail_digest_id"`);
    await queryRunner.query(`DROP TABLE "notification_digests"`);
    await queryRunner.query(`DROP TABLE "notification_mail_preferences"`);
  }
}
