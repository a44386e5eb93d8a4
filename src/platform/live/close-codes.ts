/**
 * The close codes of our WebSocket endpoint besides graphql-ws's own
 * (4400 bad request, 4401 unauthorized, 4403 forbidden, 4408 init timeout,
 * 4409 subscriber exists, 4429 too many init requests, 4500 internal).
 * docs/API.md lists them. A graphql-ws client retries any of ours (none is
 * among its fatal ones); it should refresh its token first on TOKEN_EXPIRED.
 */
export const LiveCloseCode = {
  /** The server is stopping (a deploy): reconnect, another instance answers. */
  GOING_AWAY: 1001,
  /** The access token of connection_init expired: reconnect with a fresh one. */
  TOKEN_EXPIRED: 4001,
  /** The client read too slowly and its queue passed the bound: reconnect and refetch what it missed. */
  SLOW_CONSUMER: 4002,
  /** The user has LIVE_MAX_CONNECTIONS_PER_USER connections open already (on this instance). */
  TOO_MANY_CONNECTIONS: 4029,
} as const;
