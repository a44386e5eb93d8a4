import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { connectionType } from '../../platform/pagination';
import { ProjectStatus } from './project.entity';
import { TaskStatus } from './task.entity';

export { ProjectStatus, TaskStatus };

export enum TaskOrderField {
  CREATED_AT = 'CREATED_AT',
  UPDATED_AT = 'UPDATED_AT',
  PRIORITY = 'PRIORITY',
  DUE_DATE = 'DUE_DATE',
}

export enum OrderDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}

registerEnumType(ProjectStatus, { name: 'ProjectStatus' });
registerEnumType(TaskStatus, { name: 'TaskStatus' });
registerEnumType(TaskOrderField, { name: 'TaskOrderField' });
registerEnumType(OrderDirection, { name: 'OrderDirection' });

@ObjectType({
  simpleResolvers: true,
  description: "An organization's project; an ARCHIVED project's tasks are read-only.",
})
export class Project {
  @Field(() => ID)
  id: string;

  @Field(() => String)
  name: string;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => ProjectStatus)
  status: ProjectStatus;

  @Field(() => Date)
  createdAt: Date;

  @Field(() => Date)
  updatedAt: Date;

  organizationId: string;
}

@ObjectType({ simpleResolvers: true })
export class Task {
  @Field(() => ID)
  id: string;

  @Field(() => String)
  title: string;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => TaskStatus)
  status: TaskStatus;

  @Field(() => Int, { description: '0 (none) .. 4 (urgent)' })
  priority: number;

  @Field(() => Date, { nullable: true })
  dueDate: Date | null;

  @Field(() => Int, { description: 'Starts at 1; every update adds one. Send it back as expectedVersion.' })
  version: number;

  @Field(() => Date)
  createdAt: Date;

  @Field(() => Date)
  updatedAt: Date;

  projectId: string;
  organizationId: string;
  assigneeId: string | null;
  createdById: string;
}

@ObjectType({ simpleResolvers: true })
export class Comment {
  @Field(() => ID)
  id: string;

  @Field(() => String)
  body: string;

  @Field(() => Date)
  createdAt: Date;

  taskId: string;
  authorId: string;
  organizationId: string;
}

/**
 * The parent a field resolver receives, typed by these aliases rather than by
 * the classes: when a `@Root()` parameter's reflected type is an object type's
 * class, type-graphql copies every parent row into a new instance of it
 * (200 copies for a page of 20 projects with 10 tasks each); typed by an
 * alias, the row is passed as it is.
 */
export type ProjectParent = Readonly<Project>;
export type TaskParent = Readonly<Task>;
export type CommentParent = Readonly<Comment>;

export const ProjectConnection = connectionType('Project', Project);
export const TaskConnection = connectionType('Task', Task);
export const CommentConnection = connectionType('Comment', Comment);
