/** The bus's counters, ready for a metrics endpoint: monotonic counts, and the relay's lag as a gauge. */
export class EventMetrics {
  /** Events committed to the outbox. */
  published = 0;
  /** Events handed from the outbox to the transport. */
  relayed = 0;
  /** (consumer, event) pairs handled successfully. */
  delivered = 0;
  /** Handler runs that threw or timed out (each retry counts). */
  failed = 0;
  deadLettered = 0;
  /** Events relayed again because Redis lost them before every consumer had handled them. */
  redelivered = 0;
  /** Age of the oldest event not yet relayed, as of the relay's last look; 0 when the outbox is drained. */
  relayLagMs = 0;

  snapshot(): Record<
    'published' | 'relayed' | 'delivered' | 'failed' | 'deadLettered' | 'redelivered' | 'relayLagMs',
    number
  > {
    const { published, relayed, delivered, failed, deadLettered, redelivered, relayLagMs } = this;
    return { published, relayed, delivered, failed, deadLettered, redelivered, relayLagMs };
  }
}
