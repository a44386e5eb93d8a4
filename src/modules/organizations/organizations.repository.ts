import { insertRow } from '../../platform/database/entity-columns';
import type { EntityManager } from 'typeorm';
import { loadByIds } from '../../platform/database/load-by-ids';
import { OrganizationEntity } from './organization.entity';

/** Every statement about organizations. */
export class OrganizationsRepository {
  constructor(private readonly manager: EntityManager) {}

  byIds(ids: readonly string[]): Promise<(OrganizationEntity | undefined)[]> {
    return loadByIds(this.manager, OrganizationEntity, ids);
  }

  /** Fails (EntityNotFoundError) when it is gone. */
  getById(id: string): Promise<OrganizationEntity> {
    return this.manager.findOneByOrFail(OrganizationEntity, { id });
  }

  /** A unique violation (organizations_slug_key) when the slug is taken. */
  async insert(values: Pick<OrganizationEntity, 'name' | 'slug'>): Promise<OrganizationEntity> {
    return insertRow(this.manager, OrganizationEntity, values);
  }

  async setRequireVerifiedEmail(id: string, value: boolean): Promise<void> {
    await this.manager.update(OrganizationEntity, id, { requireVerifiedEmail: value });
  }

  /** Locks the organization row until the transaction ends: writes to its memberships queue behind one another. */
  async lockForUpdate(id: string): Promise<void> {
    await this.manager.findOne(OrganizationEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
  }
}
