import {
  ArrayMaxSize,
  IsEnum,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import { checkedInCode } from '../../platform/graphql/argument-validation';
import { OrderDirection, ProjectStatus, TaskOrderField, TaskStatus } from './project.types';

const NOT_BLANK = /\S/;
const TEXT_MAX = 10_000;

@InputType()
export class ProjectFilter {
  @Field(() => ProjectStatus, { nullable: true })
  @IsOptional()
  @IsEnum(ProjectStatus)
  status?: ProjectStatus;

  @Field(() => String, { nullable: true, description: 'Case-insensitive substring of the name.' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  search?: string;
}

@InputType()
export class TaskFilter {
  @Field(() => [TaskStatus], { nullable: true })
  @IsOptional()
  @IsEnum(TaskStatus, { each: true })
  @ArrayMaxSize(3)
  status?: TaskStatus[];

  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsUUID('all', { message: 'assigneeId must be a UUID' })
  assigneeId?: string;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(4)
  priorityAtLeast?: number;

  @Field(() => String, { nullable: true, description: 'Case-insensitive substring of the title.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  search?: string;
}

@InputType()
export class TaskOrder {
  @Field(() => TaskOrderField)
  @IsEnum(TaskOrderField)
  field: TaskOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.DESC })
  @IsEnum(OrderDirection)
  direction: OrderDirection;
}
// Both fields are GraphQL enums, which GraphQL itself checks: no class-validator pass on the hot list read.
checkedInCode(TaskOrder);

@InputType()
export class CreateProjectInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'organizationId must be a UUID' })
  organizationId: string;

  @Field(() => String, { description: '1 to 100 characters.' })
  @IsString()
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name: string;

  @Field(() => String, { nullable: true, description: `Up to ${TEXT_MAX} characters.` })
  @IsOptional()
  @IsString()
  @MaxLength(TEXT_MAX)
  description?: string;
}

@InputType()
export class UpdateProjectInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id must be a UUID' })
  id: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name?: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(TEXT_MAX)
  description?: string;
}

@InputType()
export class CreateTaskInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'projectId must be a UUID' })
  projectId: string;

  @Field(() => String, { description: '1 to 200 characters.' })
  @IsString()
  @Length(1, 200, { message: 'title must be 1 to 200 characters' })
  @Matches(NOT_BLANK, { message: 'title must not be blank' })
  title: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(TEXT_MAX)
  description?: string;

  @Field(() => Int, { nullable: true, defaultValue: 0, description: '0 (none) .. 4 (urgent)' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(4)
  priority?: number;

  @Field(() => Date, { nullable: true })
  @IsOptional()
  dueDate?: Date;

  @Field(() => ID, { nullable: true, description: 'A member of the project’s organization.' })
  @IsOptional()
  @IsUUID('all', { message: 'assigneeId must be a UUID' })
  assigneeId?: string;
}

@InputType()
export class UpdateTaskInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'id must be a UUID' })
  id: string;

  @Field(() => Int, { nullable: true, description: 'The version you read; CONFLICT when the task has changed since.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  expectedVersion?: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 200, { message: 'title must be 1 to 200 characters' })
  @Matches(NOT_BLANK, { message: 'title must not be blank' })
  title?: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(TEXT_MAX)
  description?: string;

  @Field(() => TaskStatus, { nullable: true })
  @IsOptional()
  @IsEnum(TaskStatus)
  status?: TaskStatus;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(4)
  priority?: number;

  @Field(() => Date, { nullable: true, description: 'null clears it.' })
  @IsOptional()
  dueDate?: Date | null;

  @Field(() => ID, { nullable: true, description: 'null unassigns.' })
  @IsOptional()
  @IsUUID('all', { message: 'assigneeId must be a UUID' })
  assigneeId?: string | null;
}

@InputType()
export class AddCommentInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'taskId must be a UUID' })
  taskId: string;

  @Field(() => String, { description: `1 to ${TEXT_MAX} characters.` })
  @IsString()
  @Length(1, TEXT_MAX, { message: `body must be 1 to ${TEXT_MAX} characters` })
  @Matches(NOT_BLANK, { message: 'body must not be blank' })
  body: string;
}
