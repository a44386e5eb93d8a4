import { insertRow } from '../../platform/database/entity-columns';
import type { EntityManager } from 'typeorm';
import { loadByIds } from '../../platform/database/load-by-ids';
import { UserEntity } from './user.entity';

/** Every statement about users. */
export class UsersRepository {
  constructor(private readonly manager: EntityManager) {}

  byIds(ids: readonly string[]): Promise<(UserEntity | undefined)[]> {
    return loadByIds(this.manager, UserEntity, ids);
  }

  /** `email` as stored: normalised by the caller. */
  async byEmail(email: string): Promise<UserEntity | undefined> {
    return (await this.manager.findOneBy(UserEntity, { email })) ?? undefined;
  }

  /** A unique violation (users_email_key) when the email is taken. */
  async insert(values: Pick<UserEntity, 'email' | 'name' | 'passwordHash'>): Promise<UserEntity> {
    return insertRow(this.manager, UserEntity, values);
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.manager.update(UserEntity, id, { passwordHash });
  }
}
