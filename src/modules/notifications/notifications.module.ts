import { parseDurationSeconds } from '../../config/duration';
import { defineModule, type PlatformDeps } from '../../platform/module';
import type { IdentityService } from '../identity';
import type { OrganizationAccess } from '../organizations';
import type { TasksService } from '../projects';
import { DigestSender } from './digest-sender';
import { NotificationEntity } from './notification.entity';
import { NotificationDigestEntity, NotificationMailPreferenceEntity } from './notification-mail.entities';
import { NotificationPreferencesResolver } from './notification-preferences.resolver';
import { NotificationPreferencesService } from './notification-preferences.service';
import { notificationEvents } from './notification.events';
import { notificationAddedTopic } from './notifications.live';
import { NotificationResolver } from './notifications.resolver';
import { UNSUBSCRIBE_PATH, unsubscribeRoutes } from './notifications.routes';
import { NotificationsService } from './notifications.service';
import { UnsubscribeTokens } from './unsubscribe-tokens';
import { Notifications1795579300001 } from './migrations/1795579300001-notifications';
import { NotificationMail1796410000000 } from './migrations/1796410000000-notification-mail';

export interface NotificationsDeps extends PlatformDeps {
  tasks: TasksService;
  /** Who is a member now: a notification is shown (and mailed) only while its recipient belongs to its organization. */
  access: OrganizationAccess;
  /** Where mail goes: the live, verified addresses. */
  identity: IdentityService;
}

const msOf = (duration: string) => parseDurationSeconds(duration)! * 1000;

/** The domain of MAIL_FROM's address, the right-hand side of every Message-ID. */
function messageDomain(from: string): string {
  return /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1] ?? 'localhost';
}

/**
 * In-app notifications, made from task.assigned and comment.added (each raises notification.created, the live
 * feed), mailed in
 * per-user digests for the types each user chose; a user's notifications,
 * digests and preferences are deleted on user.deleted.
 */
export const notificationsModule = defineModule<NotificationsDeps, Record<string, never>>({
  name: 'notifications',
  entities: [NotificationEntity, NotificationDigestEntity, NotificationMailPreferenceEntity],
  migrations: [Notifications1795579300001, NotificationMail1796410000000],
  events: notificationEvents,
  resolvers: [NotificationResolver, NotificationPreferencesResolver],
  build({ config, logger, uow, events, mailer, clock, tasks, access, identity }) {
    const notifications = new NotificationsService(
      uow,
      tasks,
      access,
      events.typed(notificationEvents),
      clock,
      msOf(config.NOTIFICATION_DIGEST_WINDOW),
    );
    const preferences = new NotificationPreferencesService(uow, identity);
    const tokens = new UnsubscribeTokens([config.jwtSecret, ...config.jwtPreviousSecrets]);
    const sender = new DigestSender(
      uow,
      mailer,
      identity,
      access,
      tokens,
      clock,
      {
        pollIntervalMs: config.NOTIFICATION_MAIL_POLL_INTERVAL_MS,
        batchSize: 16,
        maxAttempts: config.NOTIFICATION_MAIL_MAX_ATTEMPTS,
        claimMs: msOf(config.NOTIFICATION_MAIL_CLAIM_TIMEOUT),
        retryBaseMs: 60_000,
        retryCapMs: 3_600_000,
        messageDomain: messageDomain(config.MAIL_FROM),
        unsubscribeUrl: `${config.PUBLIC_API_URL.replace(/\/+$/, '')}${UNSUBSCRIBE_PATH}`,
        unsubscribeTtlMs: msOf(config.NOTIFICATION_UNSUBSCRIBE_TTL),
        retentionMs: msOf(config.NOTIFICATION_DIGEST_RETENTION),
        mail: { productName: config.PRODUCT_NAME, appUrl: config.APP_URL },
      },
      logger,
    );
    return {
      resolvers: [new NotificationResolver(notifications, tasks), new NotificationPreferencesResolver(preferences)],
      exports: {},
      consumers: [notifications.consumer()],
      workers: [sender.loop],
      routes: [unsubscribeRoutes(preferences, tokens, clock, logger)],
      liveTopics: [notificationAddedTopic(access)],
    };
  },
});
