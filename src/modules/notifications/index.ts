export { notificationsModule, type NotificationsDeps } from './notifications.module';
export { Notification } from './notification.types';
