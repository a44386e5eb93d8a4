import { Field, ID, ObjectType } from 'type-graphql';

@ObjectType({ simpleResolvers: true, description: 'A person who can sign in.' })
export class User {
  @Field(() => ID)
  id: string;

  /** Resolved by a field resolver: the user themself and members of a shared organization see it; anyone else gets null. */
  email: string;

  @Field(() => String, { description: '"former member" once the account was deleted.' })
  name: string;

  @Field(() => Boolean, { description: 'Whether the owner of the address followed a link mailed to it.' })
  emailVerified: boolean;

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

@ObjectType({
  simpleResolvers: true,
  description: 'A signed-in device of the viewer: a chain of refresh tokens from one logIn or signUp.',
})
export class Session {
  @Field(() => ID)
  id: string;

  @Field(() => Date)
  createdAt: Date;

  @Field(() => Date, { description: 'The last logIn, signUp or refreshSession of this session.' })
  lastUsedAt: Date;

  @Field(() => Date, { description: 'When it ends unless refreshed before.' })
  expiresAt: Date;

  @Field(() => String, { nullable: true, description: 'The User-Agent of its last use (at most 256 characters).' })
  userAgent: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'The client address of its last use, as the server sees it (TRUST_PROXY decides whether X-Forwarded-For counts).',
  })
  ipAddress: string | null;

  @Field(() => Boolean, { description: 'The session of the access token that asked.' })
  current: boolean;
}
