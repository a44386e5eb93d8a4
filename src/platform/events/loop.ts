import { isDatabaseUnavailable } from '../database/errors';
import type { Logger } from '../logging/logger';

export interface LoopOptions {
  intervalMs: number;
  logger: Logger;
  /** Logged at the first failure of a streak, with the error: `warn` when the database is away (an outage, not our bug), else `error`. */
  failing: string;
  /** Logged (info) when a step succeeds again. */
  recovered: string;
}

/**
 * A background loop that runs `step` again at once while it reports more
 * work, otherwise after `intervalMs` or as soon as someone calls wake().
 * A step that throws is logged (once per streak of failures) and retried
 * after the interval. Relays and senders are built on it; as a ModuleWorker
 * it can be handed to the app as it is.
 */
export class WakeableLoop {
  private running = false;
  private woken = false;
  private wakeSleeper: (() => void) | undefined;
  private done: Promise<void> | undefined;
  private readonly streak: FailureStreak;

  constructor(
    private readonly step: () => Promise<boolean>,
    private readonly options: LoopOptions,
  ) {
    this.streak = new FailureStreak(
      (error) =>
        isDatabaseUnavailable(error)
          ? options.logger.warn(options.failing, {
              unavailable: error instanceof Error ? error.message : String(error),
            })
          : options.logger.error(options.failing, { error }),
      () => options.logger.info(options.recovered),
    );
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.done = this.run();
  }

  wake(): void {
    this.woken = true;
    this.wakeSleeper?.();
  }

  /** Lets the step in progress finish; no new step starts. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeSleeper?.();
    await this.done;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let more = false;
      try {
        more = await this.step();
        this.streak.succeeded();
      } catch (error) {
        this.streak.failed(error);
      }
      if (!this.running) break;
      if (!more && !this.woken) await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.wakeSleeper = undefined;
        resolve();
      };
      const timer = setTimeout(finish, this.options.intervalMs);
      this.wakeSleeper = finish;
    });
  }
}

/** Exponential backoff with ±20% jitter: base, 2 base, 4 base, ... never above `capMs`. */
export function retryDelayMs(attempt: number, baseMs: number, capMs: number): number {
  const exponential = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(Math.min(capMs, exponential * (0.8 + Math.random() * 0.4)));
}

/** Logs the first failure of a streak and the recovery, not every retry of an outage. */
export class FailureStreak {
  private failing = false;

  constructor(
    private readonly onFirstFailure: (error: unknown) => void,
    private readonly onRecovery: () => void,
  ) {}

  failed(error: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.onFirstFailure(error);
  }

  succeeded(): void {
    if (!this.failing) return;
    this.failing = false;
    this.onRecovery();
  }
}
