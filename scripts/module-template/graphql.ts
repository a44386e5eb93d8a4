import type { ModuleNames } from './names';

/** The GraphQL object type and its connection. */
export function typesFile(n: ModuleNames): string {
  return `import { Field, ID, ObjectType } from 'type-graphql';
import { connectionType } from '../../platform/pagination';

@ObjectType({ simpleResolvers: true, description: "An organization's ${n.words}." })
export class ${n.Name} {
  @Field(() => ID)
  id: string;

  @Field(() => String)
  name: string;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => Date)
  createdAt: Date;

  @Field(() => Date)
  updatedAt: Date;

  organizationId: string;
}

export const ${n.Name}Connection = connectionType('${n.Name}', ${n.Name});
`;
}

/** The create and update inputs, validated by class-validator (BAD_USER_INPUT naming each field). */
export function inputsFile(n: ModuleNames): string {
  return `import { IsOptional, IsString, IsUUID, Length, Matches, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';

const NOT_BLANK = /\\S/;
const NAME_MAX = 100;
const DESCRIPTION_MAX = 10_000;

@InputType()
export class Create${n.Name}Input {
  @Field(() => ID)
  @IsUUID('all', { message: 'organizationId must be a UUID' })
  organizationId: string;

  @Field(() => String, { description: \`1 to \${NAME_MAX} characters.\` })
  @IsString()
  @Length(1, NAME_MAX, { message: \`name must be 1 to \${NAME_MAX} characters\` })
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name: string;

  @Field(() => String, { nullable: true, description: \`Up to \${DESCRIPTION_MAX} characters.\` })
  @IsOptional()
  @IsString()
  @MaxLength(DESCRIPTION_MAX)
  description?: string;
}

@InputType({ description: 'Absent fields stay as they are.' })
export class Update${n.Name}Input {
  @Field(() => ID)
  @IsUUID('all', { message: 'id must be a UUID' })
  id: string;

  @Field(() => String, { nullable: true, description: 'null leaves it as it is.' })
  @IsOptional()
  @IsString()
  @Length(1, NAME_MAX, { message: \`name must be 1 to \${NAME_MAX} characters\` })
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'null or blank clears it.' })
  @IsOptional()
  @IsString()
  @MaxLength(DESCRIPTION_MAX)
  description?: string | null;
}
`;
}

/** The resolver: thin, each field one call of the service. */
export function resolverFile(n: ModuleNames): string {
  const ctx = '@Ctx() ctx: RequestContext';
  return `import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { NotFoundError } from '../../platform/errors';
import type { RequestContext } from '../../platform/graphql/context';
import { PageArgs, type Connection } from '../../platform/pagination';
import { Organization, type OrganizationsService } from '../organizations';
import { Create${n.Name}Input, Update${n.Name}Input } from './${n.kebab}.inputs';
import { ${n.Name}, ${n.Name}Connection } from './${n.kebab}.types';
import type { ${n.Names}Service } from './${n.module}.service';

@Resolver(() => ${n.Name})
export class ${n.Name}Resolver {
  constructor(
    private readonly service: ${n.Names}Service,
    private readonly organizations: OrganizationsService,
  ) {}

  @Query(() => ${n.Name}, { nullable: true, description: 'NOT_FOUND unless the viewer is a member of its organization.' })
  ${n.name}(${ctx}, @Arg('id', () => ID) id: string): Promise<${n.Name}> {
    return this.service.get(ctx, id);
  }

  @Query(() => ${n.Name}Connection, { description: 'Newest first. \`first\` is 1 to 100.' })
  ${n.names}(
    ${ctx},
    @Arg('organizationId', () => ID) organizationId: string,
    @Args(() => PageArgs) page: PageArgs,
  ): Promise<Connection<${n.Name}>> {
    return this.service.list(ctx, organizationId, page);
  }

  @Authorized()
  @Mutation(() => ${n.Name}, { description: 'Any member of the organization.' })
  create${n.Name}(${ctx}, @Arg('input', () => Create${n.Name}Input) input: Create${n.Name}Input): Promise<${n.Name}> {
    return this.service.create(ctx, input);
  }

  @Authorized()
  @Mutation(() => ${n.Name})
  update${n.Name}(${ctx}, @Arg('input', () => Update${n.Name}Input) input: Update${n.Name}Input): Promise<${n.Name}> {
    return this.service.update(ctx, input);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'True when this call deleted it.' })
  delete${n.Name}(${ctx}, @Arg('id', () => ID) id: string): Promise<boolean> {
    return this.service.delete(ctx, id);
  }

  @FieldResolver(() => Organization)
  async organization(@Root() ${n.name}: ${n.Name}, ${ctx}): Promise<Organization> {
    const organization = await this.organizations.findById(ctx, ${n.name}.organizationId);
    if (!organization) throw new NotFoundError('Organization');
    return organization;
  }
}
`;
}
