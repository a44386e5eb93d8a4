import Transport from 'winston-transport';

const MESSAGE = Symbol.for('message');

/** Keeps every log entry a test's app writes: the parsed entry and the exact line a real transport would print. */
export class MemoryTransport extends Transport {
  readonly entries: Record<string, unknown>[] = [];
  readonly lines: string[] = [];

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    this.entries.push({ ...info });
    this.lines.push(String(info[MESSAGE]));
    next();
  }

  /** Everything written so far, as one string to search. */
  text(): string {
    return this.lines.join('\n');
  }

  find(message: string | RegExp): Record<string, unknown>[] {
    return this.entries.filter((entry) =>
      typeof message === 'string' ? entry.message === message : message.test(String(entry.message)),
    );
  }
}
