import type { Config } from '../../config/config';
import { UnauthenticatedError } from '../errors';
import type { Logger } from '../logging/logger';

/** `sessionId`: the session (refresh-token family) the access token was issued to; absent on tokens from before sessions had ids. */
export type Viewer =
  { readonly kind: 'anonymous' } | { readonly kind: 'user'; readonly userId: string; readonly sessionId?: string };

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
  logger: Logger;
  readonly config: Config;
  readonly viewer: Viewer;
  readonly loaders: Loaders;
  /** The client's address, as the proxy settings allow us to know it. */
  readonly ip: string;
  /** The User-Agent header, as the client sent it (shown in the viewer's session list). */
  readonly userAgent?: string;
}

/** The signed-in viewer's user id; UNAUTHENTICATED for an anonymous one. */
export function requireUserId(ctx: Pick<RequestContext, 'viewer'>): string {
  if (ctx.viewer.kind !== 'user') throw new UnauthenticatedError();
  return ctx.viewer.userId;
}
