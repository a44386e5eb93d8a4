import type { Writable } from 'node:stream';
import type { Client, ClientConfig, QueryResult } from 'pg';

/**
 * The hot reads of the request path (the statements marked `prepared()` that
 * only read: by-id loads, the task read with its membership check), when
 * they run outside a transaction, go over a few connections of their own,
 * shared by every request and pipelined: a statement is sent without waiting
 * for the one before it to answer, and the statements of one pass of the
 * event loop (every request whose bytes came in it) leave in one write. With a pool, each read held a connection of
 * its own for its round trip, so 30 requests at once meant 10 connections
 * each written to and woken on its own, and pg-pool's and TypeORM's
 * checkout for every statement. Measured on q1 (a task by id with its
 * assignee): about 35% less CPU per request and 45% more requests per
 * second (`npm run bench -- --baseline`, README's Performance).
 *
 * Each statement is its own implicit transaction (pg sends Sync after each),
 * so one that fails fails alone. A slow statement delays the ones sent
 * after it on its connection: only the marked reads, index lookups by id,
 * go here, and each goes to the connection with the fewest in flight; a
 * connection whose oldest statement has waited `stalledAfterMs` takes no
 * more until it answers.
 * A connection that breaks fails what it had in flight (the same
 * "retry later" as a pool's), is dropped, and is replaced on a later read;
 * until one is open, reads go through the pool.
 */
export interface PipelinedReadsOptions {
  /** How many connections (DATABASE_PIPELINED_CONNECTIONS). */
  size: number;
  /** A new, unconnected pg Client in pipeline mode, configured as the pool's are. */
  client(): Client;
  /** Each new client, before its first statement (the prepared-statements switch, the error listener). */
  prepare(client: Client): void;
  /** A connection that could not be opened or was lost: logged by the caller. */
  onError(error: Error): void;
  /**
   * A connection whose oldest statement in flight was sent longer ago than this takes no new one (they go through
   * the pool, whose wait for a connection has a limit of its own, then 503): a database that stopped answering
   * without closing the socket holds only what was already sent. Default: STALLED_AFTER_MS.
   */
  stalledAfterMs?: number;
}

interface Connection {
  client: Client;
  /** When each statement in flight was sent (performance.now()), oldest first: a pipeline answers in order. */
  sentAt: number[];
  /** Corked until the end of this pass of the event loop. */
  corked: boolean;
}

/** As long as the pool waits for a connection (DataSource's connectionTimeoutMillis). */
const STALLED_AFTER_MS = 5000;

/** A dropped connection is replaced at most once per this many milliseconds: no reconnect storm during an outage. */
const RECONNECT_INTERVAL_MS = 1000;

export class PipelinedReads {
  private readonly open: Connection[] = [];
  private opening = 0;
  private lastAttempt = -Infinity;
  private closed = false;
  /** Statements sent over these connections since the start. */
  statements = 0;

  constructor(private readonly options: PipelinedReadsOptions) {}

  /** Opens the connections; one that fails is logged and tried again later (reads use the pool meanwhile). */
  async start(): Promise<void> {
    this.lastAttempt = performance.now();
    await Promise.all(Array.from({ length: this.options.size }, () => this.connect()));
  }

  /** The statement's result, or undefined when no connection is open (the caller runs it through the pool). */
  query(text: string, values: unknown[]): Promise<QueryResult> | undefined {
    this.replaceDropped();
    const now = performance.now();
    const stalledBefore = now - (this.options.stalledAfterMs ?? STALLED_AFTER_MS);
    let connection: Connection | undefined;
    for (const candidate of this.open) {
      if (candidate.sentAt.length > 0 && candidate.sentAt[0] < stalledBefore) continue;
      if (connection === undefined || candidate.sentAt.length < connection.sentAt.length) connection = candidate;
    }
    if (!connection) return undefined;
    const chosen = connection;
    if (!chosen.corked) {
      // Every statement of this pass of the event loop, on this connection, leaves in one write: corked until the
      // check phase, after the poll phase ran every socket's callback. Uncorked at the end of each callback's
      // microtasks instead (process.nextTick), each request's read left alone: 23% more CPU per q1 request.
      chosen.corked = true;
      const stream = (chosen.client as unknown as { connection: { stream: Writable } }).connection.stream;
      stream.cork();
      setImmediate(() => {
        chosen.corked = false;
        stream.uncork();
      });
    }
    chosen.sentAt.push(now);
    this.statements += 1;
    return chosen.client.query(text, values).finally(() => {
      chosen.sentAt.shift();
    });
  }

  /** Connections open now. */
  get size(): number {
    return this.open.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    const open = this.open.splice(0);
    await Promise.all(open.map(({ client }) => client.end().catch(() => undefined)));
  }

  private replaceDropped(): void {
    if (this.closed || this.open.length + this.opening >= this.options.size) return;
    const now = performance.now();
    if (now - this.lastAttempt < RECONNECT_INTERVAL_MS) return;
    this.lastAttempt = now;
    void this.connect();
  }

  private async connect(): Promise<void> {
    this.opening += 1;
    const client = this.options.client();
    const connection: Connection = { client, sentAt: [], corked: false };
    const drop = (error?: Error) => {
      const index = this.open.indexOf(connection);
      if (index >= 0) this.open.splice(index, 1);
      if (error) this.options.onError(error);
    };
    // A lost session: pg fails what was in flight; the connection leaves the set at once.
    client.on('error', drop);
    client.on('end', () => drop());
    try {
      this.options.prepare(client);
      await client.connect();
      if (this.closed) await client.end();
      else this.open.push(connection);
    } catch (error) {
      this.options.onError(error as Error);
      await client.end().catch(() => undefined);
    } finally {
      this.opening -= 1;
    }
  }
}

/** How pg_stat_activity names these connections (unless DATABASE_URL names the application itself). */
export const PIPELINED_APPLICATION_NAME = 'groundwork pipelined reads';

/** A pg Client config for a pipelined connection, from the pool's own (pg-pool keeps it as `options`). */
export function pipelinedClientConfig(poolOptions: ClientConfig): ClientConfig & { pipeline: true } {
  return { ...poolOptions, application_name: PIPELINED_APPLICATION_NAME, pipeline: true };
}
