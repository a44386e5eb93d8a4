import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { ProjectEntity } from './project.entity';

export enum TaskStatus {
  TODO = 'TODO',
  IN_PROGRESS = 'IN_PROGRESS',
  DONE = 'DONE',
}

/**
 * Project-owned. organization_id is copied from the project so every query can
 * be scoped by tenant without a join; assignee and creator are user ids.
 */
@Entity('tasks')
@Index('tasks_project_id_created_at_id_idx', ['projectId', 'createdAt', 'id'])
@Index('tasks_project_id_updated_at_id_idx', ['projectId', 'updatedAt', 'id'])
@Index('tasks_project_id_priority_id_idx', ['projectId', 'priority', 'id'])
@Index('tasks_project_id_due_date_id_idx', ['projectId', 'dueDate', 'id'])
@Index('tasks_assignee_id_idx', ['assigneeId'])
@Check('tasks_status_check', `"status" IN ('TODO', 'IN_PROGRESS', 'DONE')`)
@Check('tasks_priority_check', `"priority" BETWEEN 0 AND 4`)
export class TaskEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'tasks_pkey' })
  id: string;

  @Column('uuid', { name: 'project_id' })
  projectId: string;

  @ManyToOne(() => ProjectEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id', foreignKeyConstraintName: 'tasks_project_id_fkey' })
  project?: ProjectEntity;

  @Column('uuid', { name: 'organization_id' })
  organizationId: string;

  @Column('text')
  title: string;

  @Column('text', { nullable: true })
  description: string | null;

  @Column('text', { default: TaskStatus.TODO })
  status: TaskStatus;

  @Column('int', { default: 0 })
  priority: number;

  @Column('timestamptz', { name: 'due_date', nullable: true })
  dueDate: Date | null;

  @Column('uuid', { name: 'assignee_id', nullable: true })
  assigneeId: string | null;

  @Column('uuid', { name: 'created_by_id' })
  createdById: string;

  /** Optimistic concurrency: every update adds one; updateTask with a stale expectedVersion is CONFLICT. */
  @Column('int', { default: 1 })
  version: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
