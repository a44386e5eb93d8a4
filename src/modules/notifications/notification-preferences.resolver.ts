import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../platform/graphql/context';
import { NotificationPreference, UpdateNotificationPreferencesInput } from './notification-preference.types';
import type { NotificationPreferencesService } from './notification-preferences.service';

@Resolver(() => NotificationPreference)
export class NotificationPreferencesResolver {
  constructor(private readonly preferences: NotificationPreferencesService) {}

  @Authorized()
  @Query(() => [NotificationPreference], {
    description: "The viewer's setting for every notification type: in-app always, mail as chosen or by default.",
  })
  notificationPreferences(@Ctx() ctx: RequestContext): Promise<NotificationPreference[]> {
    return this.preferences.list(ctx);
  }

  @Authorized()
  @Mutation(() => [NotificationPreference], {
    description: 'Turns mail on or off per notification type; answers every type as notificationPreferences does.',
  })
  updateNotificationPreferences(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => UpdateNotificationPreferencesInput) input: UpdateNotificationPreferencesInput,
  ): Promise<NotificationPreference[]> {
    return this.preferences.update(ctx, input);
  }
}
