import type { Clock } from '../../platform/clock';
import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { defineConsumer, type EventConsumer } from '../../platform/events/event';
import type { Mailer } from '../../platform/mail/mailer';
import { hashOpaqueToken, newOpaqueToken } from '../../platform/opaque-tokens';
import type { AccountTokenPurpose } from './account-token.entity';
import { AccountTokensRepository } from './account-tokens.repository';
import type { AccountMails } from './account-mail';
import type { IdentityEvents } from './identity.events';
import type { UserRow } from './users.repository';
import { UsersRepository } from './users.repository';

export interface AccountTokenLifetimes {
  verifyEmailSeconds: number;
  resetPasswordSeconds: number;
  changeEmailSeconds: number;
}

/**
 * The identity module's consumer: every account mail goes out from here, after
 * the request's transaction committed, so a request never waits on the mail
 * server nor does different work for an address with or without an account.
 * A token is made here, random, and only its SHA-256 stored; a retried
 * handler makes a new one (the first may never have left). Not in
 * ctx.transaction, like the invitation mail: a failed send is retried.
 */
export function accountMailConsumer(
  uow: UnitOfWork,
  mailer: Mailer,
  mails: AccountMails,
  lifetimes: AccountTokenLifetimes,
  clock: Clock,
): EventConsumer {
  const users = () => uow.get(UsersRepository);
  const live = (user: UserRow | undefined) => (user && !user.deletedAt ? user : undefined);

  /** A new token, or undefined when the account was deleted since the handler read it (then nothing is mailed). */
  async function issue(
    user: UserRow,
    purpose: AccountTokenPurpose,
    email: string,
    ttlSeconds: number,
  ): Promise<string | undefined> {
    const token = newOpaqueToken();
    const expiresAt = new Date(clock.now().getTime() + ttlSeconds * 1000);
    const stored = await uow
      .get(AccountTokensRepository)
      .insertForLiveUser({ userId: user.id, purpose, tokenHash: hashOpaqueToken(token), email, expiresAt });
    return stored ? token : undefined;
  }

  async function sendVerification(user: UserRow): Promise<void> {
    const token = await issue(user, 'verify_email', user.email, lifetimes.verifyEmailSeconds);
    if (token) await mailer.send(mails.verifyEmail(user.email, token, lifetimes.verifyEmailSeconds));
  }

  return defineConsumer<IdentityEvents>('identity', {
    'user.signed_up': async (event) => {
      const user = live((await users().byIds([event.data.userId]))[0]);
      if (user && !user.emailVerified) await sendVerification(user);
    },
    'user.sign_up_repeated': async (event) => {
      const user = live((await users().byIds([event.data.userId]))[0]);
      if (!user) return;
      let verification: { token: string; ttlSeconds: number } | undefined;
      if (!user.emailVerified) {
        const token = await issue(user, 'verify_email', user.email, lifetimes.verifyEmailSeconds);
        if (!token) return;
        verification = { token, ttlSeconds: lifetimes.verifyEmailSeconds };
      }
      await mailer.send(mails.alreadyRegistered(user.email, verification));
    },
    'user.verification_requested': async (event) => {
      const user = live(await users().byEmail(event.data.email));
      if (user && !user.emailVerified) await sendVerification(user);
    },
    'user.password_reset_requested': async (event) => {
      const user = live(await users().byEmail(event.data.email));
      if (!user) return;
      const token = await issue(user, 'reset_password', user.email, lifetimes.resetPasswordSeconds);
      if (token) await mailer.send(mails.resetPassword(user.email, token, lifetimes.resetPasswordSeconds));
    },
    'user.password_changed': async (event) => {
      const user = live((await users().byIds([event.data.userId]))[0]);
      if (user) await mailer.send(mails.passwordChanged(user.email, event.data.reset));
    },
    'user.email_change_requested': async (event, { logger }) => {
      const user = live((await users().byIds([event.data.userId]))[0]);
      if (!user) return;
      const { newEmail } = event.data;
      if (await users().byEmail(newEmail)) {
        // Taken since the request: the confirmation could only fail. The owner still hears of the attempt below.
        logger.info('email change not mailed: the new address has an account', { userId: user.id });
      } else {
        const token = await issue(user, 'change_email', newEmail, lifetimes.changeEmailSeconds);
        if (!token) return;
        await mailer.send(mails.confirmEmailChange(newEmail, token, lifetimes.changeEmailSeconds));
      }
      await mailer.send(mails.emailChangeRequested(user.email));
    },
    'user.email_changed': async (event) => {
      await mailer.send(mails.emailChanged(event.data.previousEmail));
    },
  });
}
