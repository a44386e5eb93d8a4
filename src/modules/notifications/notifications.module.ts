import { defineModule, type PlatformDeps } from '../../platform/module';
import type { OrganizationAccess } from '../organizations';
import type { TasksService } from '../projects';
import { NotificationEntity } from './notification.entity';
import { NotificationResolver } from './notifications.resolver';
import { NotificationsService } from './notifications.service';
import { Notifications1795579300001 } from './migrations/1795579300001-notifications';

export interface NotificationsDeps extends PlatformDeps {
  tasks: TasksService;
  /** Who is a member now: a notification is shown only while its recipient belongs to its organization. */
  access: OrganizationAccess;
}

/** In-app notifications, made from task.assigned and comment.added; a user's are deleted on user.deleted. */
export const notificationsModule = defineModule<NotificationsDeps, Record<string, never>>({
  name: 'notifications',
  entities: [NotificationEntity],
  migrations: [Notifications1795579300001],
  resolvers: [NotificationResolver],
  build({ uow, tasks, access }) {
    const notifications = new NotificationsService(uow, tasks, access);
    return {
      resolvers: [new NotificationResolver(notifications, tasks)],
      exports: {},
      consumers: [notifications.consumer()],
    };
  },
});
