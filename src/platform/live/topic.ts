import type { DomainEvent } from '../events/event';
import type { RequestContext } from '../graphql/context';

/** Where an opened subscription listens: the routing key its events carry, and the organization it is confined to (if any). */
export interface LiveTarget {
  key: string;
  /** Set for a subscription to one organization's events: an event of another organization never reaches it. */
  organizationId?: string;
}

/** A subscriber an event may go to: who, and to which organization's events they are confined. */
export interface LiveRecipient {
  userId: string;
  organizationId: string;
}

/**
 * One subscription field's live topic, defined by the module that owns the
 * field (returned from its build as `liveTopics`, beside its consumers, and
 * run on the API side only). The hub routes each event of `types` by
 * `keyOf`, asks `admit` once per event batch which subscribers may still
 * receive it, and builds each event's payload once for every subscriber.
 */
export interface LiveTopic<TPayload = unknown> {
  /** The Subscription field's name, e.g. taskChanged. */
  name: string;
  types: readonly string[];
  /** At subscribe time: authorizes the viewer (NOT_FOUND, FORBIDDEN, UNAUTHENTICATED as queries do) and says where to listen. */
  open(ctx: RequestContext, argument: string | undefined): Promise<LiveTarget>;
  /** The routing key of an event (a project id, a recipient's user id, an organization id); undefined: nobody's. */
  keyOf(event: DomainEvent): string | undefined;
  /**
   * Which (event organization, user) pairs may receive events now: one
   * statement for a whole batch, keys `organizationId/userId`.
   */
  admit(recipients: readonly LiveRecipient[]): Promise<Set<string>>;
  /**
   * true: a subscriber refused by `admit` (membership removed, role lowered)
   * has their subscription ended with FORBIDDEN; false: that event is only
   * skipped (a user's own feed across organizations).
   */
  endWhenRefused: boolean;
  /** Each event's payload for the resolvers, built once per batch (a task read once for every subscriber); absent: skip it. */
  payloads(events: readonly DomainEvent[]): Promise<Map<string, TPayload>>;
}
