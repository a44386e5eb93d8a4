import { IsEmail, IsString, Length, Matches, MaxLength, MinLength } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { NormalisedEmail } from '../../platform/graphql/normalised-email';

export const PASSWORD_MIN_LENGTH = 10;
/** Long enough for any passphrase; short enough that hashing it is not a denial of service. */
export const PASSWORD_MAX_LENGTH = 256;

@InputType()
export class SignUpInput {
  @Field(() => String, { description: 'Normalised (trimmed, lower-case); unique.' })
  @IsEmail({}, { message: 'email must be a valid email address' })
  @MaxLength(254)
  @NormalisedEmail()
  email: string;

  @Field(() => String, { description: `At least ${PASSWORD_MIN_LENGTH} characters.` })
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH, { message: `password must be at least ${PASSWORD_MIN_LENGTH} characters` })
  @MaxLength(PASSWORD_MAX_LENGTH)
  password: string;

  @Field(() => String, { description: '1 to 100 characters.' })
  @IsString()
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  @Matches(/\S/, { message: 'name must not be blank' })
  name: string;
}

@InputType()
export class LogInInput {
  @Field(() => String)
  @IsString()
  @MaxLength(254)
  @NormalisedEmail()
  email: string;

  @Field(() => String)
  @IsString()
  @MaxLength(PASSWORD_MAX_LENGTH)
  password: string;
}
