/** The live feed's numbers, read by /metrics (AppMetrics.watchLive): gauges of what is open, monotonic counts. */
export class LiveMetrics {
  /** WebSocket connections open now. */
  connections = 0;
  /** Subscriptions active now. */
  subscriptions = 0;
  /** Events queued for sending now, over every connection. */
  queued = 0;
  /** Subscription results (`next` messages) handed to sockets. */
  sent = 0;
  /** Connections closed because they could not keep up (LIVE_MAX_QUEUED_EVENTS or LIVE_MAX_BUFFERED_BYTES). */
  slowConsumersDropped = 0;
  /** Events the feed read from the transport. */
  eventsRead = 0;
  /** Connections closed by the server, by close code. */
  readonly closed = new Map<number, number>();

  closedWith(code: number): void {
    this.closed.set(code, (this.closed.get(code) ?? 0) + 1);
  }
}
