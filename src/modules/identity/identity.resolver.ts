import { Arg, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../../platform/graphql/context';
import { LogInInput, SignUpInput } from './identity.inputs';
import type { AuthResult, IdentityService } from './identity.service';
import { AuthPayload, User } from './user.types';

function toPayload(result: AuthResult): AuthPayload {
  return {
    accessToken: result.accessToken,
    refreshToken: result.refreshToken,
    accessTokenExpiresAt: result.accessTokenExpiresAt,
    user: Object.assign(new User(), result.user, { authenticatedHere: true }),
  };
}

@Resolver()
export class AuthResolver {
  constructor(private readonly identity: IdentityService) {}

  @Mutation(() => AuthPayload, {
    nullable: true,
    description:
      'Creates an account and mails its verification link. SIGNUP_MODE=open: signs it in; CONFLICT when the email is taken. SIGNUP_MODE=quiet: null whether the email is new or taken (its owner is mailed), and logIn works once the email is verified.',
  })
  async signUp(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => SignUpInput) input: SignUpInput,
  ): Promise<AuthPayload | null> {
    const result = await this.identity.signUp(ctx, input);
    return result ? toPayload(result) : null;
  }

  @Mutation(() => AuthPayload, {
    description:
      'UNAUTHENTICATED for an unknown email or a wrong password alike; RATE_LIMITED after repeated failures; EMAIL_NOT_VERIFIED (SIGNUP_MODE=quiet) for the right password of an unverified account.',
  })
  async logIn(@Ctx() ctx: RequestContext, @Arg('input', () => LogInInput) input: LogInInput): Promise<AuthPayload> {
    return toPayload(await this.identity.logIn(ctx, input));
  }

  @Mutation(() => AuthPayload, {
    description: 'Exchanges a refresh token for a new pair. Reusing a spent token revokes every token of its session.',
  })
  async refreshSession(
    @Ctx() ctx: RequestContext,
    @Arg('refreshToken', () => String) refreshToken: string,
  ): Promise<AuthPayload> {
    return toPayload(await this.identity.refreshSession(ctx, refreshToken));
  }

  @Mutation(() => Boolean, {
    description: 'Ends the session the refresh token belongs to; false if it had already ended.',
  })
  async logOut(@Ctx() ctx: RequestContext, @Arg('refreshToken', () => String) refreshToken: string): Promise<boolean> {
    return this.identity.logOut(ctx, refreshToken);
  }
}

@Resolver(() => User)
export class UserResolver {
  constructor(
    private readonly identity: IdentityService,
    private readonly canSeeEmail: (ctx: RequestContext, userId: string) => Promise<boolean>,
  ) {}

  @Query(() => User, { nullable: true, description: 'The signed-in user; null when anonymous.' })
  async me(@Ctx() ctx: RequestContext): Promise<User | undefined> {
    return this.identity.me(ctx);
  }

  // Null, not an error: an error on a hidden field would null every parent up to the first nullable one (a whole task list).
  @FieldResolver(() => String, {
    nullable: true,
    description:
      'Visible to the user themself and to members of an organization they share; null to anyone else (the author of an old comment who has since left, say).',
  })
  // Readonly<User>, not User: typed by the class, type-graphql would copy every parent user into a new instance.
  async email(@Root() user: Readonly<User>, @Ctx() ctx: RequestContext): Promise<string | null> {
    if (user.authenticatedHere || (ctx.viewer.kind === 'user' && ctx.viewer.userId === user.id)) return user.email;
    return (await this.canSeeEmail(ctx, user.id)) ? user.email : null;
  }
}
