import { IsBoolean, IsEmail, IsEnum, IsOptional, IsString, IsUUID, Length, Matches, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { NormalisedEmail } from '../../platform/graphql/normalised-email';
import { Role } from './role';
import { SLUG, SLUG_MAX_LENGTH } from './slug';

@InputType()
export class CreateOrganizationInput {
  @Field(() => String, { description: '1 to 100 characters.' })
  @IsString()
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  @Matches(/\S/, { message: 'name must not be blank' })
  name: string;

  @Field(() => String, { nullable: true, description: 'Derived from the name when absent. CONFLICT when taken.' })
  @IsOptional()
  @Length(2, SLUG_MAX_LENGTH, { message: `slug must be 2 to ${SLUG_MAX_LENGTH} characters` })
  @Matches(SLUG, { message: 'slug must be lower-case letters and digits joined by single hyphens' })
  slug?: string;
}

@InputType()
export class InviteMemberInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'organizationId must be a UUID' })
  organizationId: string;

  @Field(() => String)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  @NormalisedEmail()
  email: string;

  @Field(() => Role, { defaultValue: Role.MEMBER, description: 'Only an OWNER may invite an OWNER.' })
  @IsEnum(Role)
  role: Role;
}

@InputType()
export class ChangeMemberRoleInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'membershipId must be a UUID' })
  membershipId: string;

  @Field(() => Role)
  @IsEnum(Role)
  role: Role;
}

@InputType()
export class UpdateOrganizationSettingsInput {
  @Field(() => ID)
  @IsUUID('all', { message: 'organizationId must be a UUID' })
  organizationId: string;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Accepting an invitation needs a verified email; left as it is when absent.',
  })
  @IsOptional()
  @IsBoolean()
  requireVerifiedEmail?: boolean | null;
}
