import type { EntityManager } from 'typeorm';
import type { DigestStatus } from './notification-mail.entities';

/** A digest a sender claimed: it alone may send it until `claimedUntil`. */
export interface ClaimedDigest {
  id: string;
  userId: string;
  attempts: number;
  messageId: string;
}

/** A notification as a digest mails it. */
export interface DigestItem {
  id: string;
  organizationId: string;
  type: string;
  message: string;
  createdAt: Date;
}

/**
 * Every statement about digests. Times come from the caller's clock, never
 * from now(), so a test moves the window by moving its clock.
 */
export class NotificationDigestsRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * Puts each notification in its recipient's OPEN digest, opening one due at
   * `dueAt` for a recipient without. The upsert locks each OPEN row until the
   * caller's transaction commits, and a sender claims with SKIP LOCKED: a
   * digest is never claimed while notifications are still joining it.
   */
  async queue(items: readonly { id: string; userId: string }[], dueAt: Date): Promise<void> {
    if (items.length === 0) return;
    const userIds = [...new Set(items.map((item) => item.userId))].sort();
    const opened = (await this.manager.query(
      `INSERT INTO notification_digests (user_id, due_at)
       SELECT unnest($1::uuid[]), $2
       ON CONFLICT (user_id) WHERE status = 'OPEN' DO UPDATE SET user_id = EXCLUDED.user_id
       RETURNING id, user_id AS "userId"`,
      [userIds, dueAt],
    )) as { id: string; userId: string }[];
    const digestOf = new Map(opened.map((row) => [row.userId, row.id]));
    await this.manager.query(
      `UPDATE notifications n SET mail_digest_id = q.digest_id
         FROM unnest($1::uuid[], $2::uuid[]) AS q(id, digest_id)
        WHERE n.id = q.id`,
      [items.map((item) => item.id), items.map((item) => digestOf.get(item.userId))],
    );
  }

  /**
   * Claims up to `limit` due digests until `now + leaseMs` (rows picked FOR
   * UPDATE SKIP LOCKED: two senders never claim the same one). The attempt
   * is counted here, before anything is sent.
   */
  async claimDue(now: Date, limit: number, leaseMs: number, messageDomain: string): Promise<ClaimedDigest[]> {
    // An UPDATE answers [rows, count] through TypeORM.
    const [rows] = (await this.manager.query(
      `WITH due AS (
         SELECT id FROM notification_digests
          WHERE status IN ('OPEN', 'RETRYING') AND due_at <= $1
          ORDER BY due_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED)
       UPDATE notification_digests d
          SET status = 'SENDING', attempts = d.attempts + 1,
              claimed_until = $1::timestamptz + $3 * interval '1 millisecond',
              message_id = COALESCE(d.message_id, '<digest.' || d.id || '@' || $4 || '>')
         FROM due WHERE d.id = due.id
       RETURNING d.id, d.user_id AS "userId", d.attempts, d.message_id AS "messageId"`,
      [now, limit, leaseMs, messageDomain],
    )) as [ClaimedDigest[], number];
    return rows;
  }

  /**
   * Claims whose sender died or stalled. Never handed to SMTP: due again now
   * (nothing left the process). Handed: the mail may have been accepted, so
   * UNCERTAIN, and never sent again.
   */
  async releaseLapsed(now: Date): Promise<{ id: string; userId: string; status: DigestStatus }[]> {
    const [rows] = (await this.manager.query(
      `UPDATE notification_digests
          SET status = CASE WHEN handed_at IS NULL THEN 'RETRYING' ELSE 'UNCERTAIN' END,
              due_at = $1, claimed_until = NULL,
              last_error = CASE WHEN handed_at IS NULL THEN 'the sender stopped before sending'
                                ELSE 'the sender stopped after handing it to SMTP, before recording the outcome' END
        WHERE status = 'SENDING' AND claimed_until < $1
       RETURNING id, user_id AS "userId", status`,
      [now],
    )) as [{ id: string; userId: string; status: DigestStatus }[], number];
    return rows;
  }

  /** What the digest mails, oldest first. */
  items(digestId: string): Promise<DigestItem[]> {
    return this.manager.query(
      `SELECT id, organization_id AS "organizationId", type, message, created_at AS "createdAt"
         FROM notifications WHERE mail_digest_id = $1 ORDER BY created_at, id`,
      [digestId],
    ) as Promise<DigestItem[]>;
  }

  /**
   * Marks the mail as handed to SMTP, if the claim (its attempt number is the
   * fencing token) still holds at `now`; false: another sender owns it now, do not send.
   */
  async hand(claim: ClaimedDigest, now: Date): Promise<boolean> {
    const [rows] = (await this.manager.query(
      `UPDATE notification_digests SET handed_at = $3
        WHERE id = $1 AND attempts = $2 AND status = 'SENDING' AND claimed_until >= $3 RETURNING id`,
      [claim.id, claim.attempts, now],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  /** Records a final outcome of this claim; SENT also corrects the UNCERTAIN its lapsed claim became. */
  async finish(
    claim: ClaimedDigest,
    status: Extract<DigestStatus, 'SENT' | 'FAILED' | 'UNCERTAIN' | 'SKIPPED'>,
    now: Date,
    error: string | null,
  ): Promise<void> {
    await this.manager.query(
      `UPDATE notification_digests
          SET status = $3, claimed_until = NULL, last_error = $5,
              sent_at = CASE WHEN $3 = 'SENT' THEN $4::timestamptz ELSE sent_at END
        WHERE id = $1 AND attempts = $2 AND (status = 'SENDING' OR ($3 = 'SENT' AND status = 'UNCERTAIN'))`,
      [claim.id, claim.attempts, status, now, error],
    );
  }

  /** The SMTP server refused it (or it could not be prepared): due again at `dueAt`. */
  async retryAt(claim: ClaimedDigest, dueAt: Date, error: string): Promise<void> {
    await this.manager.query(
      `UPDATE notification_digests
          SET status = 'RETRYING', claimed_until = NULL, handed_at = NULL, due_at = $3, last_error = $4
        WHERE id = $1 AND attempts = $2 AND status = 'SENDING'`,
      [claim.id, claim.attempts, dueAt, error],
    );
  }

  /**
   * Deletes up to `limit` finished digests (sent, failed, uncertain, skipped) that finished before `before`; their
   * notifications stay, no longer linked to a digest. Answers how many went.
   */
  async pruneFinished(before: Date, limit: number): Promise<number> {
    const [, deleted] = (await this.manager.query(
      `DELETE FROM notification_digests WHERE id IN (
         SELECT id FROM notification_digests
          WHERE status IN ('SENT', 'FAILED', 'UNCERTAIN', 'SKIPPED') AND coalesce(sent_at, due_at) < $1
          LIMIT $2)`,
      [before, limit],
    )) as [unknown, number];
    return deleted;
  }

  /** Deletes every digest of `userIds` (their accounts were deleted), pending or not. */
  async deleteAllOf(userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.manager.query(`DELETE FROM notification_digests WHERE user_id = ANY($1::uuid[])`, [userIds]);
  }
}
