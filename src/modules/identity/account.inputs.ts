import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { NormalisedEmail } from '../../platform/graphql/normalised-email';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './identity.inputs';

/** Mailed tokens are 43 characters; a longer string is refused before any work. */
const TOKEN_MAX_LENGTH = 128;

@InputType({ description: 'An address to mail: the answer is the same whether it has an account or not.' })
export class AccountEmailInput {
  @Field(() => String)
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  @NormalisedEmail()
  email: string;
}

@InputType()
export class ResetPasswordInput {
  @Field(() => String, { description: 'From the link mailed by requestPasswordReset.' })
  @IsString()
  @MaxLength(TOKEN_MAX_LENGTH)
  token: string;

  @Field(() => String, { description: `At least ${PASSWORD_MIN_LENGTH} characters.` })
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH, { message: `newPassword must be at least ${PASSWORD_MIN_LENGTH} characters` })
  @MaxLength(PASSWORD_MAX_LENGTH)
  newPassword: string;
}

@InputType()
export class ChangePasswordInput {
  @Field(() => String)
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  currentPassword: string;

  @Field(() => String, { description: `At least ${PASSWORD_MIN_LENGTH} characters.` })
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH, { message: `newPassword must be at least ${PASSWORD_MIN_LENGTH} characters` })
  @MaxLength(PASSWORD_MAX_LENGTH)
  newPassword: string;
}

@InputType()
export class RequestEmailChangeInput {
  @Field(() => String, { description: 'Normalised; the confirmation link goes there.' })
  @IsEmail({}, { message: 'newEmail must be a valid email address' })
  @MaxLength(254)
  @NormalisedEmail()
  newEmail: string;

  @Field(() => String, { description: 'The current password: a stolen access token alone cannot move the account.' })
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password: string;
}

@InputType()
export class DeleteAccountInput {
  @Field(() => String, { description: 'The current password.' })
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password: string;
}
