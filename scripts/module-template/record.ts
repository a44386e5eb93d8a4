import type { ModuleNames } from './names';

/** The entity: organization-owned, found by id and listed per organization newest first. */
export function entityFile(n: ModuleNames): string {
  return `import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** Organization-owned; organization_id references the organizations module's table by id (a foreign key, no ORM relation). */
@Entity('${n.table}')
@Index('${n.table}_organization_id_created_at_id_idx', ['organizationId', 'createdAt', 'id'])
export class ${n.Name}Entity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: '${n.table}_pkey' })
  id: string;

  @Column('uuid', { name: 'organization_id' })
  organizationId: string;

  @Column('text')
  name: string;

  @Column('text', { nullable: true })
  description: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
`;
}

/** The migration that creates the entity's table, named (class and file) by its timestamp. */
export function migrationFile(n: ModuleNames, timestamp: number): string {
  const className = `${n.Names}${timestamp}`;
  return `import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The ${n.table} table; a row goes with its organization (ON DELETE CASCADE). */
export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(\`
      CREATE TABLE "${n.table}" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "organization_id" uuid NOT NULL,
        "name" text NOT NULL,
        "description" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "${n.table}_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "${n.table}_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE
      )\`);
    // The keyset list: an organization's rows newest first, id breaking ties.
    await queryRunner.query(\`CREATE INDEX "${n.table}_organization_id_created_at_id_idx" ON "${n.table}" ("organization_id", "created_at", "id")\`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(\`DROP TABLE "${n.table}"\`);
  }
}
`;
}

/** The repository: every statement about the records, the list through loadKeysetPages. */
export function repositoryFile(n: ModuleNames): string {
  return `import type { EntityManager } from 'typeorm';
import { columnValues, insertRow } from '../../platform/database/entity-columns';
import { loadKeysetPages } from '../../platform/database/keyset-pages';
import { loadByIds } from '../../platform/database/load-by-ids';
import type { Connection, PageRequest } from '../../platform/pagination';
import { ${n.Name}Entity } from './${n.kebab}.entity';

/** Every statement about ${n.words} records. */
export class ${n.Names}Repository {
  constructor(private readonly manager: EntityManager) {}

  byIds(ids: readonly string[]): Promise<(${n.Name}Entity | undefined)[]> {
    return loadByIds(this.manager, ${n.Name}Entity, ids);
  }

  /** The columns an input carries, normalised as stored (see columnValues): the service never lists fields. */
  valuesOf(input: object): Partial<${n.Name}Entity> {
    return columnValues(this.manager, ${n.Name}Entity, input);
  }

  /** Columns left out take their defaults (NULL where nullable), and the returned row shows them. */
  insert(values: Partial<${n.Name}Entity>): Promise<${n.Name}Entity> {
    return insertRow(this.manager, ${n.Name}Entity, values);
  }

  /** The row, locked against every other write of it until the transaction ends. */
  async lockForUpdate(id: string): Promise<${n.Name}Entity | undefined> {
    return (await this.manager.findOne(${n.Name}Entity, { where: { id }, lock: { mode: 'pessimistic_write' } })) ?? undefined;
  }

  /** Applies \`values\` (updated_at follows) and returns the row as stored. */
  async update(id: string, values: Partial<${n.Name}Entity>): Promise<${n.Name}Entity> {
    await this.manager.update(${n.Name}Entity, id, values);
    return this.manager.findOneByOrFail(${n.Name}Entity, { id });
  }

  async delete(id: string): Promise<boolean> {
    const { affected } = await this.manager.delete(${n.Name}Entity, id);
    return Boolean(affected);
  }

  /** Newest first; a page per organization, for any number of them, in one statement. */
  pages(organizationIds: readonly string[], page: PageRequest): Promise<Connection<${n.Name}Entity>[]> {
    const list = { entity: ${n.Name}Entity, alias: 'r', parent: 'organization_id', order: { column: 'created_at', kind: 'timestamp', descending: true } } as const;
    return loadKeysetPages(this.manager, list, organizationIds, page);
  }
}
`;
}
