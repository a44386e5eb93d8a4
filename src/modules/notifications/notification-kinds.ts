/** A type of notification, as `Notification.type` names it, and whether it is mailed unless its recipient says otherwise. */
export interface NotificationKind {
  type: string;
  description: string;
  mailByDefault: boolean;
}

/**
 * Every type the notifications consumer makes. In-app is always on; mail is
 * on by default only for what is addressed to one person and rare (an
 * assignment), off for the noisy (every comment on a task one created).
 */
export const NOTIFICATION_KINDS: readonly NotificationKind[] = [
  { type: 'task.assigned', description: 'You were assigned a task.', mailByDefault: true },
  {
    type: 'comment.added',
    description: 'Someone commented on a task you created or are assigned.',
    mailByDefault: false,
  },
];

export const NOTIFICATION_TYPES = NOTIFICATION_KINDS.map((kind) => kind.type);

export function kindOf(type: string): NotificationKind | undefined {
  return NOTIFICATION_KINDS.find((kind) => kind.type === type);
}
