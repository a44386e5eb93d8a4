import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType({ simpleResolvers: true, description: 'A person who can sign in.' })
export class User {
  @Field(() => ID)
  id: string;

  /** Resolved by a field resolver: the user themself and members of a shared organization see it; anyone else gets null. */
  email: string;

  @Field(() => String)
  name: string;

  @Field(() => Date)
  createdAt: Date;

  /** Not a field: set on the user an AuthPayload just signed in, whose viewer is still anonymous in this request. */
  authenticatedHere?: boolean;
}

@ObjectType({ simpleResolvers: true, description: 'What signUp, logIn and refreshSession return: a fresh session.' })
export class AuthPayload {
  @Field(() => String, { description: 'Send as `Authorization: Bearer <accessToken>`.' })
  accessToken: string;

  @Field(() => String, { description: 'Single use: exchange it with refreshSession for a new pair.' })
  refreshToken: string;

  @Field(() => Date)
  accessTokenExpiresAt: Date;

  @Field(() => User)
  user: User;
}
