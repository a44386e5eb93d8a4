import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../platform/graphql/context';
import {
  AccountEmailInput,
  ChangePasswordInput,
  DeleteAccountInput,
  RequestEmailChangeInput,
  ResetPasswordInput,
} from './account.inputs';
import type { AccountsService } from './accounts.service';
import type { RecoveryService } from './recovery.service';
import { Session } from './user.types';

/** Proving an address: verification and password reset; no sign-in needed. */
@Resolver()
export class RecoveryResolver {
  constructor(private readonly recovery: RecoveryService) {}

  @Mutation(() => Boolean, {
    description: 'Verifies the address the link was mailed to. INVALID_TOKEN for an unknown, used or expired link.',
  })
  verifyEmail(@Ctx() ctx: RequestContext, @Arg('token', () => String) token: string): Promise<boolean> {
    return this.recovery.verifyEmail(ctx, token);
  }

  @Mutation(() => Boolean, {
    description:
      'Always true, whether the address has an account or not; a new link is mailed if it has an unverified one. RATE_LIMITED per address and per client.',
  })
  resendVerification(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => AccountEmailInput) input: AccountEmailInput,
  ): Promise<boolean> {
    return this.recovery.resendVerification(ctx, input);
  }

  @Mutation(() => Boolean, {
    description:
      'Always true, in the same time, whether the address has an account or not; a single-use link is mailed if it has. RATE_LIMITED per address and per client.',
  })
  requestPasswordReset(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => AccountEmailInput) input: AccountEmailInput,
  ): Promise<boolean> {
    return this.recovery.requestPasswordReset(ctx, input);
  }

  @Mutation(() => Boolean, {
    description:
      'Sets the password from a mailed link and signs out every session. INVALID_TOKEN for an unknown, used or expired link.',
  })
  resetPassword(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => ResetPasswordInput) input: ResetPasswordInput,
  ): Promise<boolean> {
    return this.recovery.resetPassword(ctx, input);
  }
}

/** The signed-in viewer's own account. */
@Resolver()
export class AccountResolver {
  constructor(private readonly accounts: AccountsService) {}

  @Authorized()
  @Query(() => [Session], {
    description: "The viewer's live sessions, most recently used first; `current` marks this one.",
  })
  mySessions(@Ctx() ctx: RequestContext): Promise<Session[]> {
    return this.accounts.mySessions(ctx);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description: 'BAD_USER_INPUT when currentPassword is wrong. Signs out every other session; a notice is mailed.',
  })
  changePassword(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => ChangePasswordInput) input: ChangePasswordInput,
  ): Promise<boolean> {
    return this.accounts.changePassword(ctx, input);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description:
      'Mails a confirmation link to the new address and a notice to the current one; nothing changes until confirmEmailChange.',
  })
  requestEmailChange(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => RequestEmailChangeInput) input: RequestEmailChangeInput,
  ): Promise<boolean> {
    return this.accounts.requestEmailChange(ctx, input);
  }

  @Mutation(() => Boolean, {
    description:
      'From the link mailed to the new address. INVALID_TOKEN for an unknown, used or expired link; CONFLICT if the address was taken meanwhile.',
  })
  confirmEmailChange(@Ctx() ctx: RequestContext, @Arg('token', () => String) token: string): Promise<boolean> {
    return this.accounts.confirmEmailChange(ctx, token);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description:
      "Ends one of the viewer's sessions; NOT_FOUND for any other id. Its access tokens lapse within ACCESS_TOKEN_TTL.",
  })
  revokeSession(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string): Promise<boolean> {
    return this.accounts.revokeSession(ctx, id);
  }

  @Authorized()
  @Mutation(() => Int, { description: 'Ends every session of the viewer, this one included; how many.' })
  logOutEverywhere(@Ctx() ctx: RequestContext): Promise<number> {
    return this.accounts.logOutEverywhere(ctx);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description:
      'The password first. CONFLICT (extensions.organizationIds) while the viewer is the last OWNER of an organization. Leaves every organization; what the user wrote stays, by "former member".',
  })
  deleteAccount(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => DeleteAccountInput) input: DeleteAccountInput,
  ): Promise<boolean> {
    return this.accounts.deleteAccount(ctx, input);
  }
}
