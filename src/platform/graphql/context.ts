import type { Config } from '../../config/config';
import { UnauthenticatedError } from '../errors';
import type { Logger, RequestLog } from '../logging/logger';

/**
 * `sessionId`: the session (refresh-token family) the access token was issued to; absent on tokens from before
 * sessions had ids. `expiresAt`: when the access token expires (a live connection is closed then).
 */
export type Viewer =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'user'; readonly userId: string; readonly sessionId?: string; readonly expiresAt?: Date };

export const ANONYMOUS: Viewer = Object.freeze({ kind: 'anonymous' });

/**
 * A per-request value, built on first use from the request's viewer: a
 * DataLoader, usually. Modules create their keys once at build time.
 */
export class LoaderKey<T> {
  constructor(
    readonly name: string,
    readonly create: (viewer: Viewer) => T,
  ) {}
}

/** The request's loaders, each created when first asked for; a new set per request, so nothing is cached across requests. */
export class Loaders {
  private readonly instances = new Map<LoaderKey<unknown>, unknown>();

  constructor(private readonly viewer: Viewer) {}

  get<T>(key: LoaderKey<T>): T {
    let instance = this.instances.get(key) as T | undefined;
    if (instance === undefined) {
      instance = key.create(this.viewer);
      this.instances.set(key, instance);
    }
    return instance;
  }
}

/** What every resolver and service receives first. */
export interface RequestContext {
  readonly requestId: string;
  /** A child logger with requestId, userId and (once known) operationName. */
  readonly logger: Logger;
  readonly config: Config;
  readonly viewer: Viewer;
  readonly loaders: Loaders;
  /** The client's address, as the proxy settings allow us to know it. */
  readonly ip: string;
  /** The User-Agent header, as the client sent it (shown in the viewer's session list). */
  readonly userAgent?: string;
  /**
   * Runs `task` once this request's answer has been handed to the socket (at once if it already has). Absent where
   * nothing waits for an answer (a consumer, a live connection's operation): there work runs at once.
   */
  readonly afterResponse?: (task: () => void) => void;
}

/**
 * The work an HTTP request defers until its answer has gone: waking the event relay, so no handler of the
 * request's events (an account mail, say) competes with the answer for this process's time. Whether an address
 * has an account must not show in how long the answer took.
 */
export class AfterResponse {
  private tasks: (() => void)[] | undefined;
  private gone = false;

  /**
   * `whenGone(run)` calls `run` once the answer has gone (at once if it has): asked on the first task only, so a
   * request that defers nothing (most reads) puts no listener on its response.
   */
  constructor(private readonly whenGone: (run: () => void) => void) {}

  /** Queues `task`, or runs it now when the answer has gone. */
  readonly add = (task: () => void): void => {
    if (this.gone) return task();
    if (this.tasks) return void this.tasks.push(task);
    this.tasks = [task];
    this.whenGone(() => this.run());
  };

  /** The answer has gone (or the connection closed): runs what waited, once. */
  private run(): void {
    if (this.gone) return;
    this.gone = true;
    const tasks = this.tasks;
    this.tasks = undefined;
    for (const task of tasks ?? []) task();
  }
}

/**
 * The context of an operation over HTTP. Its logger is its scope's, a child
 * made on first use: most operations write only their own line, which the
 * operation plugin writes through the scope. Apollo gives resolvers and
 * plugins a copy (the prototype and the own fields), so the getter holds there.
 */
export class ScopedRequestContext implements RequestContext {
  readonly requestId: string;
  readonly config: Config;
  readonly viewer: Viewer;
  readonly loaders: Loaders;
  readonly ip: string;
  readonly userAgent?: string;
  readonly afterResponse?: (task: () => void) => void;

  constructor(
    readonly scope: RequestLog,
    parts: Omit<RequestContext, 'requestId' | 'logger'>,
  ) {
    this.requestId = scope.requestId;
    this.config = parts.config;
    this.viewer = parts.viewer;
    this.loaders = parts.loaders;
    this.ip = parts.ip;
    this.userAgent = parts.userAgent;
    this.afterResponse = parts.afterResponse;
  }

  get logger(): Logger {
    return this.scope.logger;
  }
}

/** The signed-in viewer's user id; UNAUTHENTICATED for an anonymous one. */
export function requireUserId(ctx: Pick<RequestContext, 'viewer'>): string {
  if (ctx.viewer.kind !== 'user') throw new UnauthenticatedError();
  return ctx.viewer.userId;
}
