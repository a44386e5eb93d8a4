import type { DomainEvent } from '../../platform/events/event';
import { requireUserId } from '../../platform/graphql/context';
import type { LiveTopic } from '../../platform/live/topic';
import type { OrganizationAccess } from '../organizations';
import type { NotificationEvents } from './notification.events';
import type { Notification } from './notification.types';

/**
 * notificationAdded: the viewer's own notifications as the consumer writes
 * them (notification.created), from the organizations they are a member of
 * when it is delivered; one of an organization they left is skipped, as the
 * notifications list hides it.
 */
export function notificationAddedTopic(access: OrganizationAccess): LiveTopic<Notification> {
  return {
    name: 'notificationAdded',
    types: ['notification.created'],
    endWhenRefused: false,
    async open(ctx) {
      return { key: requireUserId(ctx) };
    },
    keyOf: (event) => (event.data as NotificationEvents['notification.created']).recipientId,
    admit: (recipients) => access.membersAmong(recipients),
    async payloads(events: readonly DomainEvent[]) {
      return new Map(
        events.map((event) => {
          const data = event.data as NotificationEvents['notification.created'];
          const notification: Notification = {
            id: event.subject.id,
            type: data.type,
            message: data.message,
            readAt: null,
            createdAt: new Date(data.createdAt),
            taskId: data.taskId,
          };
          return [event.id, notification];
        }),
      );
    },
  };
}
