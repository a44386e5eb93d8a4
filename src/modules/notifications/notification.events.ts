import { defineEvents } from '../../platform/events/catalog';

/** The events this module publishes: type -> `data`. Subject: the notification. */
export type NotificationEvents = {
  /** Raised by the notifications consumer in the transaction that writes the notification: the live notificationAdded feed. */
  'notification.created': {
    recipientId: string;
    type: string;
    message: string;
    taskId: string | null;
    createdAt: string;
  };
};

export const notificationEvents = defineEvents<NotificationEvents>({
  'notification.created': {
    description: 'A notification was made for a user (their live notificationAdded feed); private to them.',
    webhook: false,
    audit: null,
  },
});
