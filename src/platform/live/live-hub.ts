import type { PubSub } from 'type-graphql';
import { AppError, ForbiddenError, ServiceUnavailableError } from '../errors';
import type { DomainEvent } from '../events/event';
import type { RequestContext } from '../graphql/context';
import type { Logger } from '../logging/logger';
import { LiveCloseCode } from './close-codes';
import type { LiveMetrics } from './metrics';
import type { LiveTarget, LiveTopic } from './topic';

/** One WebSocket connection, as the hub sees it: whose, until when, and how far behind it is. */
export interface LiveConnection {
  readonly userId: string;
  /** When the connection's access token expires: the socket is closed then (and no event goes out past it). */
  readonly expiresAt: Date | undefined;
  /** Events queued for this connection across its subscriptions. */
  queued: number;
  /** Whether the socket can take one more event (queue and socket buffer under their bounds). */
  keepingUp(): boolean;
  /** Closes the socket with a code of ours; its subscriptions end. */
  close(code: number, reason: string): void;
}

/** What a subscription field's resolver hands the pub-sub: the request and the field's argument. */
export interface LiveRequest {
  context: RequestContext;
  argument?: string;
}

/** The connection behind a subscription's context: set by the WebSocket server on every context it builds. */
const connections = new WeakMap<object, LiveConnection>();

export function attachConnection(context: RequestContext, connection: LiveConnection): void {
  connections.set(context, connection);
}

/**
 * One subscription: a queue the hub fills and graphql-ws drains (one `next`
 * per event, sent before the next is taken). A refused or failed delivery
 * ends it with that error as its last result.
 */
class LiveSubscription implements AsyncIterableIterator<unknown> {
  private readonly queue: unknown[] = [];
  private waiting: ((result: IteratorResult<unknown>) => void) | undefined;
  private failed: ((error: unknown) => void) | undefined;
  private ending: AppError | undefined;
  done = false;

  constructor(
    readonly connection: LiveConnection,
    readonly target: LiveTarget,
    private readonly metrics: LiveMetrics,
    private readonly onDone: (subscription: LiveSubscription) => void,
  ) {}

  push(payload: unknown): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failed = undefined;
      resolve({ value: payload, done: false });
      return;
    }
    this.queue.push(payload);
    this.connection.queued += 1;
    this.metrics.queued += 1;
  }

  /** Ends it: with an error, that error is what the subscriber gets last. */
  end(error?: AppError): void {
    if (this.done || this.ending) return;
    if (error && this.waiting) {
      const reject = this.failed!;
      this.waiting = this.failed = undefined;
      this.finish();
      reject(error);
      return;
    }
    if (error) this.ending = error;
    else this.finish();
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failed = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.queue.length > 0) {
      this.connection.queued -= 1;
      this.metrics.queued -= 1;
      return Promise.resolve({ value: this.queue.shift(), done: false });
    }
    if (this.ending) {
      const error = this.ending;
      this.finish();
      return Promise.reject(error);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
    });
  }

  return(): Promise<IteratorResult<unknown>> {
    this.finish();
    if (this.waiting) this.waiting({ value: undefined, done: true });
    this.waiting = this.failed = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.connection.queued -= this.queue.length;
    this.metrics.queued -= this.queue.length;
    this.queue.length = 0;
    this.onDone(this);
  }
}

/**
 * The pub-sub of our Subscription fields (type-graphql's `pubSub`), fed by
 * the event stream: `subscribe(topic, request)` authorizes through the
 * module's topic and opens a subscription; `dispatch(events)` routes a
 * batch of events to the subscriptions of this instance. Per batch and
 * topic it asks the topic once which recipients may still receive each
 * event (membership, role) and builds each payload once; a subscription of
 * one organization never receives another's event.
 */
export class LiveHub implements PubSub {
  private readonly topics = new Map<string, LiveTopic>();
  private readonly byKey = new Map<string, Map<string, Set<LiveSubscription>>>();
  private dispatching: Promise<void> = Promise.resolve();

  constructor(
    topics: readonly LiveTopic[],
    readonly metrics: LiveMetrics,
    private readonly logger: Logger,
    /** Where the topics' statements run: the app hands a connection of the hub's own (ReservedConnection), not the pool. */
    private readonly reads: <T>(work: () => Promise<T>) => Promise<T> = (work) => work(),
  ) {
    for (const topic of topics) {
      if (this.topics.has(topic.name)) throw new Error(`Two live topics are named ${topic.name}`);
      this.topics.set(topic.name, topic);
      this.byKey.set(topic.name, new Map());
    }
  }

  publish(): void {
    throw new Error('Live topics are fed by the event stream: publish a domain event in a transaction instead');
  }

  /** type-graphql calls it with the field's topic and the request its topicId built. */
  subscribe(routingKey: string, request?: unknown): AsyncIterable<unknown> {
    const topic = this.topics.get(routingKey);
    if (!topic) throw new Error(`No live topic is named ${routingKey}`);
    const { context, argument } = request as LiveRequest;
    const connection = connections.get(context);
    if (!connection) throw new Error('Subscriptions are served over WebSocket only');
    return { [Symbol.asyncIterator]: () => this.open(topic, context, argument, connection) };
  }

  /**
   * Routes a batch of events. Its statements (admit, payloads) start at
   * once, beside those of the batches still in flight, so a batch never
   * waits for the one before it to come back from the database; the
   * deliveries go out in order, batch after batch.
   */
  dispatch(events: readonly DomainEvent[]): Promise<void> {
    this.metrics.eventsRead += events.length;
    const prepared = this.route(events);
    const run = this.dispatching.then(() => prepared).then((deliveries) => deliveries.forEach((send) => send()));
    this.dispatching = run.catch(() => undefined);
    return run;
  }

  /** Resolves once the batches handed to dispatch so far are delivered (the app stops the database after). */
  idle(): Promise<void> {
    return this.dispatching;
  }

  /** Subscriptions open on this instance. */
  get size(): number {
    return this.metrics.subscriptions;
  }

  private open(
    topic: LiveTopic,
    context: RequestContext,
    argument: string | undefined,
    connection: LiveConnection,
  ): AsyncIterator<unknown> {
    let opened: LiveSubscription | undefined;
    let opening: Promise<LiveSubscription> | undefined;
    const start = () =>
      (opening ??= topic.open(context, argument).then((target) => {
        const subscription = new LiveSubscription(connection, target, this.metrics, (done) =>
          this.remove(topic.name, done),
        );
        let subscribers = this.byKey.get(topic.name)!.get(target.key);
        if (!subscribers) this.byKey.get(topic.name)!.set(target.key, (subscribers = new Set()));
        subscribers.add(subscription);
        this.metrics.subscriptions += 1;
        opened = subscription;
        return subscription;
      }));
    return {
      next: async () => (await start()).next(),
      return: async () => {
        if (opened) return opened.return();
        opening?.then(
          (subscription) => subscription.return(),
          () => undefined,
        );
        return { value: undefined, done: true };
      },
    };
  }

  private remove(topicName: string, subscription: LiveSubscription): void {
    const subscribers = this.byKey.get(topicName)!;
    const set = subscribers.get(subscription.target.key);
    if (!set?.delete(subscription)) return;
    this.metrics.subscriptions -= 1;
    if (set.size === 0) subscribers.delete(subscription.target.key);
  }

  /** Starts each topic's statements for the batch; resolves to what sends the batch's events, topic by topic. */
  private async route(events: readonly DomainEvent[]): Promise<(() => void)[]> {
    const deliveries: Promise<() => void>[] = [];
    for (const topic of this.topics.values()) {
      const subscribers = this.byKey.get(topic.name)!;
      if (subscribers.size === 0) continue;
      const routed = events.flatMap((event) => {
        if (!topic.types.includes(event.type) || !event.organizationId) return [];
        const key = topic.keyOf(event);
        const set = key === undefined ? undefined : subscribers.get(key);
        // A subscription confined to one organization never sees another's event, whatever its key says.
        const to = [...(set ?? [])].filter(
          (subscription) =>
            !subscription.target.organizationId || subscription.target.organizationId === event.organizationId,
        );
        return to.length > 0 ? [{ event, organizationId: event.organizationId, to }] : [];
      });
      if (routed.length > 0) deliveries.push(this.deliver(topic, routed));
    }
    return Promise.all(deliveries);
  }

  /** Asks the topic who may receive the events and builds their payloads (side by side); resolves to what sends them. */
  private async deliver(
    topic: LiveTopic,
    deliveries: { event: DomainEvent; organizationId: string; to: LiveSubscription[] }[],
  ): Promise<() => void> {
    const now = Date.now();
    const live = (subscription: LiveSubscription) => {
      const { expiresAt } = subscription.connection;
      if (expiresAt && expiresAt.getTime() <= now) {
        subscription.connection.close(LiveCloseCode.TOKEN_EXPIRED, 'Token expired');
        return false;
      }
      return !subscription.done;
    };
    const recipients = new Map<string, { organizationId: string; userId: string }>();
    for (const { organizationId, to } of deliveries)
      for (const subscription of to.filter(live)) {
        const { userId } = subscription.connection;
        recipients.set(`${organizationId}/${userId}`, { organizationId, userId });
      }
    if (recipients.size === 0) return () => undefined;
    let admitted: Set<string>;
    let payloads: Map<string, unknown>;
    try {
      [admitted, payloads] = await this.reads(() =>
        Promise.all([topic.admit([...recipients.values()]), topic.payloads(deliveries.map(({ event }) => event))]),
      );
    } catch (error) {
      // Nothing is sent that was not checked: the subscribers are told to come back, and refetch what they missed.
      this.logger.warn('live delivery failed; ending the subscriptions concerned', { topic: topic.name, error });
      const unavailable = new ServiceUnavailableError(error instanceof Error ? error.message : String(error));
      return () => {
        for (const { to } of deliveries) for (const subscription of to) subscription.end(unavailable);
      };
    }
    return () => {
      for (const { event, organizationId, to } of deliveries) {
        const payload = payloads.get(event.id);
        for (const subscription of to) {
          if (subscription.done) continue;
          if (!admitted.has(`${organizationId}/${subscription.connection.userId}`)) {
            if (topic.endWhenRefused)
              subscription.end(new ForbiddenError('You no longer have access to what this subscription follows'));
            continue;
          }
          if (payload === undefined) continue;
          if (!subscription.connection.keepingUp()) {
            subscription.connection.close(LiveCloseCode.SLOW_CONSUMER, 'Slow consumer');
            continue;
          }
          subscription.push(payload);
        }
      }
    };
  }
}
