import type { WebSocket } from 'ws';
import type { Config } from '../../config/config';
import type { Viewer } from '../graphql/context';
import { LiveCloseCode } from './close-codes';
import type { LiveConnection } from './live-hub';
import type { LiveMetrics } from './metrics';

/** setTimeout's longest delay; a token valid for longer is checked again when the timer fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One acknowledged WebSocket connection: its viewer, the timer that closes
 * it when its token expires, and the bounds that make a slow reader a
 * dropped one (events queued for it, bytes its socket holds unsent).
 */
export class LiveSocket implements LiveConnection {
  readonly id: string;
  readonly viewer: Viewer;
  readonly ip: string;
  readonly userAgent: string | undefined;
  queued = 0;
  private closed = false;
  private disposed = false;
  private expiry: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: {
      id: string;
      key: string;
      viewer: Viewer;
      ip: string;
      userAgent: string | undefined;
      socket: WebSocket;
      config: Config;
      metrics: LiveMetrics;
      onDisposed(): void;
    },
  ) {
    this.id = options.id;
    this.viewer = options.viewer;
    this.ip = options.ip;
    this.userAgent = options.userAgent;
    this.scheduleExpiry();
  }

  /** The user's id; a made-up key for an anonymous connection (its subscriptions are refused anyway). */
  get userId(): string {
    return this.viewer.kind === 'user' ? this.viewer.userId : this.options.key;
  }

  get expiresAt(): Date | undefined {
    return this.viewer.kind === 'user' ? this.viewer.expiresAt : undefined;
  }

  keepingUp(): boolean {
    const { config } = this.options;
    return (
      !this.closed &&
      this.queued < config.LIVE_MAX_QUEUED_EVENTS &&
      this.options.socket.bufferedAmount < config.LIVE_MAX_BUFFERED_BYTES
    );
  }

  /** Nothing queued nor unsent. */
  drained(): boolean {
    return this.closed || (this.queued === 0 && this.options.socket.bufferedAmount === 0);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const { metrics, socket } = this.options;
    metrics.closedWith(code);
    if (code === LiveCloseCode.SLOW_CONSUMER) metrics.slowConsumersDropped += 1;
    socket.close(code, reason);
  }

  /** The socket closed: stop the timer, give the user's slot back. Once. */
  dispose(): void {
    clearTimeout(this.expiry);
    if (this.disposed) return;
    this.disposed = this.closed = true;
    this.options.onDisposed();
  }

  private scheduleExpiry(): void {
    const expiresAt = this.expiresAt;
    if (!expiresAt) return;
    const wait = expiresAt.getTime() - Date.now();
    if (wait <= 0) return this.close(LiveCloseCode.TOKEN_EXPIRED, 'Token expired');
    this.expiry = setTimeout(
      () =>
        Date.now() >= expiresAt.getTime()
          ? this.close(LiveCloseCode.TOKEN_EXPIRED, 'Token expired')
          : this.scheduleExpiry(),
      Math.min(wait, MAX_TIMER_MS),
    );
    this.expiry.unref();
  }
}
