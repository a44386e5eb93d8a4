import { IsInt, Min } from 'class-validator';

/** Live updates: GraphQL subscriptions over WebSocket on the /graphql path (docs/API.md, "Subscriptions"). */
export class LiveConfig {
  /** WebSocket connections one user may hold open on an instance; one more is closed with 4029. */
  @IsInt()
  @Min(1)
  LIVE_MAX_CONNECTIONS_PER_USER = 10;

  /** Subscriptions one connection may hold at a time; one more is refused with RATE_LIMITED. */
  @IsInt()
  @Min(1)
  LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION = 25;

  /** Events queued for one connection before it counts as a slow consumer and is closed with 4002. */
  @IsInt()
  @Min(1)
  LIVE_MAX_QUEUED_EVENTS = 200;

  /** Bytes the socket may hold unsent (ws bufferedAmount) before the connection counts as a slow consumer (4002). */
  @IsInt()
  @Min(1024)
  LIVE_MAX_BUFFERED_BYTES = 1048576;

  /** Milliseconds a new socket has to send connection_init before it is closed with 4408. */
  @IsInt()
  @Min(100)
  LIVE_CONNECTION_INIT_TIMEOUT_MS = 10000;

  /** Milliseconds between pings to each socket (one unanswered for as long closes it); 0 turns them off. */
  @IsInt()
  @Min(0)
  LIVE_KEEPALIVE_MS = 12000;
}
