import type { UnitOfWork } from '../../platform/database/unit-of-work';
import { BadUserInputError, type FieldError } from '../../platform/errors';
import { requireUserId, type RequestContext } from '../../platform/graphql/context';
import type { IdentityService } from '../identity';
import { NOTIFICATION_KINDS, NOTIFICATION_TYPES, kindOf } from './notification-kinds';
import type { NotificationPreference, UpdateNotificationPreferencesInput } from './notification-preference.types';
import { NotificationMailPreferencesRepository } from './notification-mail-preferences.repository';

/** Who gets which notifications by mail: each user's choices over the types' defaults. */
export class NotificationPreferencesService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly identity: IdentityService,
  ) {}

  /** Every type, in NOTIFICATION_KINDS' order, with the viewer's setting. */
  async list(ctx: RequestContext): Promise<NotificationPreference[]> {
    return this.of(requireUserId(ctx));
  }

  /** Stores the viewer's choices; an unknown or repeated type is BAD_USER_INPUT and nothing is stored. */
  async update(ctx: RequestContext, input: UpdateNotificationPreferencesInput): Promise<NotificationPreference[]> {
    const userId = requireUserId(ctx);
    const problems: FieldError[] = [];
    input.mail.forEach((choice, index) => {
      const field = `input.mail.${index}.type`;
      if (!kindOf(choice.type))
        problems.push({ field, messages: [`unknown notification type; known: ${NOTIFICATION_TYPES.join(', ')}`] });
      else if (input.mail.findIndex((other) => other.type === choice.type) !== index)
        problems.push({ field, messages: ['each type may be named once'] });
    });
    if (problems.length > 0) throw new BadUserInputError('Invalid notification preferences', problems);
    await this.uow.get(NotificationMailPreferencesRepository).set(userId, input.mail);
    return this.of(userId);
  }

  /**
   * The one-click unsubscribe: no notification type is mailed to the user any more (each can be turned back on).
   * A deleted account, whose preferences are gone, gets none back.
   */
  async unsubscribe(userId: string): Promise<void> {
    if (!(await this.identity.mailRecipients([userId])).has(userId)) return;
    await this.uow.get(NotificationMailPreferencesRepository).set(
      userId,
      NOTIFICATION_TYPES.map((type) => ({ type, mail: false })),
    );
  }

  private async of(userId: string): Promise<NotificationPreference[]> {
    const choices = await this.uow.get(NotificationMailPreferencesRepository).ofUser(userId);
    return NOTIFICATION_KINDS.map((kind) => ({
      type: kind.type,
      description: kind.description,
      inApp: true,
      mail: choices.get(kind.type) ?? kind.mailByDefault,
      mailByDefault: kind.mailByDefault,
    }));
  }
}
