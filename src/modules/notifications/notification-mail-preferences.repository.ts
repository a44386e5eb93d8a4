import type { EntityManager } from 'typeorm';

/** Every statement about users' mail preferences. */
export class NotificationMailPreferencesRepository {
  constructor(private readonly manager: EntityManager) {}

  /** The user's stored choices, by type; a type absent takes its default. */
  async ofUser(userId: string): Promise<Map<string, boolean>> {
    const rows = (await this.manager.query(`SELECT type, mail FROM notification_mail_preferences WHERE user_id = $1`, [
      userId,
    ])) as { type: string; mail: boolean }[];
    return new Map(rows.map((row) => [row.type, row.mail]));
  }

  /** Stores each choice (the last one wins), in one statement. */
  async set(userId: string, choices: readonly { type: string; mail: boolean }[]): Promise<void> {
    if (choices.length === 0) return;
    await this.manager.query(
      `INSERT INTO notification_mail_preferences (user_id, type, mail)
       SELECT $1, * FROM unnest($2::text[], $3::boolean[])
       ON CONFLICT (user_id, type) DO UPDATE SET mail = EXCLUDED.mail, updated_at = now()`,
      [userId, choices.map((choice) => choice.type), choices.map((choice) => choice.mail)],
    );
  }

  /** Deletes every choice of `userIds` (their accounts were deleted). */
  async deleteAllOf(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.manager.query(`DELETE FROM notification_mail_preferences WHERE user_id = ANY($1::uuid[])`, [userIds]);
  }
}
