import { insertRow, selectList } from '../../platform/database/entity-columns';
import type { EntityManager } from 'typeorm';
import { loadByIds } from '../../platform/database/load-by-ids';
import { UserEntity } from './user.entity';

/**
 * A user's row as the identity module reads it for anything but a password check (what the user loader holds and
 * `IdentityService.keep` takes): without the password hash, which only logIn and confirmPassword read.
 */
export type UserRow = Omit<UserEntity, 'passwordHash'>;

const NOT_READ: readonly 'passwordHash'[] = ['passwordHash'];

/**
 * A user's columns for another module's statement to read beside its own rows
 * (a task's assignee, joined to the task), each named `"<prefix>.<property>"`:
 * the repository takes them out with `splitPrefixed`, and the service hands the
 * user to `IdentityService.keep`, so the request's user loader answers for
 * them without a statement of its own. Only rows the statement already may
 * show (its own authorization decides); visibility of fields such as the email
 * stays with the identity module's resolvers.
 */
export function userColumnsSql(manager: EntityManager, alias: string, prefix: string): string {
  return selectList(manager, UserEntity, alias, NOT_READ, prefix);
}

/** Every statement about users. */
export class UsersRepository {
  constructor(private readonly manager: EntityManager) {}

  byIds(ids: readonly string[]): Promise<(UserRow | undefined)[]> {
    return loadByIds(this.manager, UserEntity, ids, NOT_READ);
  }

  /** `email` as stored (normalised by the caller), without the password hash: for anything but a password check. */
  async rowByEmail(email: string): Promise<UserRow | undefined> {
    const rows = (await this.manager.query(
      `SELECT ${selectList(this.manager, UserEntity, 'u', NOT_READ)} FROM users u WHERE u.email = $1`,
      [email],
    )) as UserRow[];
    return rows[0];
  }

  /** The stored password hash of a user who is not deleted; undefined otherwise. */
  async passwordHashOf(id: string): Promise<string | undefined> {
    const rows = (await this.manager.query(
      'SELECT password_hash AS "passwordHash" FROM users WHERE id = $1 AND deleted_at IS NULL',
      [id],
    )) as { passwordHash: string }[];
    return rows[0]?.passwordHash;
  }

  /** `email` as stored: normalised by the caller. */
  async byEmail(email: string): Promise<UserEntity | undefined> {
    return (await this.manager.findOneBy(UserEntity, { email })) ?? undefined;
  }

  /** A unique violation (users_email_key) when the email is taken. */
  async insert(values: Pick<UserEntity, 'email' | 'name' | 'passwordHash'>): Promise<UserEntity> {
    return insertRow(this.manager, UserEntity, values);
  }

  /**
   * SIGNUP_MODE=quiet: inserts the user unless the email is taken, in one statement either way (the existing row is
   * only read, never rewritten, so probing one address many times leaves no dead rows behind); the id either way,
   * and whether it is new.
   */
  async insertUnlessTaken(
    values: Pick<UserEntity, 'email' | 'name' | 'passwordHash'>,
  ): Promise<{ id: string; inserted: boolean }> {
    const rows = (await this.manager.query(
      `WITH added AS (
         INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) ON CONFLICT (email) DO NOTHING RETURNING id)
       SELECT id, true AS inserted FROM added
       UNION ALL
       SELECT id, false AS inserted FROM users WHERE email = $1 AND NOT EXISTS (SELECT 1 FROM added)`,
      [values.email, values.name, values.passwordHash],
    )) as { id: string; inserted: boolean }[];
    return rows[0];
  }

  /** The user, its row locked until the transaction ends; undefined when absent or deleted. */
  async lockForUpdate(id: string): Promise<UserEntity | undefined> {
    const user = await this.manager.findOne(UserEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
    return user && !user.deletedAt ? user : undefined;
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.manager.update(UserEntity, id, { passwordHash });
  }

  async markEmailVerified(id: string): Promise<void> {
    await this.manager.update(UserEntity, id, { emailVerified: true });
  }

  /** A unique violation (users_email_key) when another account has the address. The address is verified: a link mailed there proved it. */
  async setVerifiedEmail(id: string, email: string): Promise<void> {
    await this.manager.update(UserEntity, id, { email, emailVerified: true });
  }

  /**
   * A deleted account's tombstone: no email (an address no one can have: .invalid is reserved), no name but
   * "former member", no password; the row stays so what the user wrote keeps an author.
   */
  async anonymize(id: string, now: Date): Promise<void> {
    await this.manager.query(
      `UPDATE users SET email = 'deleted-' || id || '@deleted.invalid', name = 'former member', password_hash = '', email_verified = false,
              deleted_at = $2, updated_at = $2
        WHERE id = $1`,
      [id, now],
    );
  }
}
