import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { waitFor } from './wait';

/** What one subscription received: its results in order, and how it ended. */
export interface LiveSubscription<T = Record<string, any>> {
  results: { data?: T | null; errors?: { message: string; extensions: Record<string, any> }[] }[];
  /** The `error` message's errors, when the server refused the subscription. */
  refused?: { message: string; extensions: Record<string, any> }[];
  completed: boolean;
  stop(): void;
}

/** A graphql-ws client over a real socket, as an application would open one; `closes` records how sockets ended. */
export interface LiveClient {
  client: Client;
  closes: { code: number; reason: string }[];
  /** The client's raw sockets, newest last (a test pauses one to play a slow reader). */
  sockets: WebSocket[];
  subscribe<T = Record<string, any>>(query: string, variables?: Record<string, unknown>): LiveSubscription<T>;
  /** Resolves once the server acknowledged connection_init. */
  connected(): Promise<void>;
  dispose(): Promise<void>;
}

export function liveClient(
  baseUrl: string,
  token?: string,
  options: { lazy?: boolean; paramsKey?: string } = {},
): LiveClient {
  const closes: { code: number; reason: string }[] = [];
  const sockets: WebSocket[] = [];
  let acknowledged = false;
  class RecordedWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      sockets.push(this);
    }
  }
  const client = createClient({
    url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: RecordedWebSocket,
    connectionParams: token ? { [options.paramsKey ?? 'authorization']: `Bearer ${token}` } : {},
    lazy: options.lazy ?? false,
    retryAttempts: 0,
    shouldRetry: () => false,
    // Closes are recorded in `closes`; the default would print each one.
    onNonLazyError: () => undefined,
    on: {
      connected: () => (acknowledged = true),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        closes.push({ code, reason: String(reason) });
      },
    },
  });
  return {
    client,
    closes,
    sockets,
    subscribe<T>(query: string, variables?: Record<string, unknown>) {
      const subscription: LiveSubscription<T> = { results: [], completed: false, stop: () => undefined };
      subscription.stop = client.subscribe<T>(
        { query, variables },
        {
          next: (result) => subscription.results.push(result as LiveSubscription<T>['results'][number]),
          error: (error) => {
            if (Array.isArray(error)) subscription.refused = error as LiveSubscription['refused'];
            subscription.completed = true;
          },
          complete: () => (subscription.completed = true),
        },
      );
      return subscription;
    },
    connected: () => waitFor(() => acknowledged, 'the server to acknowledge connection_init').then(() => undefined),
    dispose: () => Promise.resolve(client.dispose()),
  };
}
