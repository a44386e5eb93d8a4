import Transport from 'winston-transport';

/** Where winston's finished formats leave the line (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');

/** A batch is written at once past this size, not left for the end of the turn. */
const MAX_BATCH_CHARS = 64 * 1024;

/**
 * The lines of every batched transport in the process, in the order they were logged, waiting for the end of the
 * event loop's turn. stdout is one file descriptor, so one buffer: two loggers' lines never interleave out of order.
 */
let pending = '';
let scheduled = false;

interface Output {
  write(chunk: string): unknown;
}

let output: Output = process.stdout;

/** Writes what is pending now. Safe to call at any time, also from an 'exit' listener (stdout is synchronous there). */
export function flushLogLines(): void {
  if (pending === '') return;
  const chunk = pending;
  pending = '';
  output.write(chunk);
}

function flushAtEndOfTurn(): void {
  scheduled = false;
  flushLogLines();
}

// A process.exit() or a crash leaves no later turn: what was logged in the last one is written on the way out.
process.on('exit', flushLogLines);

/**
 * stdout, one write per turn of the event loop instead of one per line.
 *
 * On Linux a write to stdout, a file or a pipe, is synchronous: a system call per line, 4.5% of the CPU of a
 * one-statement query in `npm run bench -- --profile` (one line per request). Lines logged in the same turn (the
 * requests a turn finishes) go out in one write at its end (setImmediate), or at once when they pass 64 KiB.
 * Lines keep their order. On the way out (`process.exit`, an uncaught exception, the end of the logger) what is
 * pending is written; only a SIGKILL loses the lines of the turn it interrupts.
 */
export class BatchedStdoutTransport extends Transport {
  override log(info: Record<string | symbol, unknown>, callback: () => void): void {
    pending += `${String(info[MESSAGE])}\n`;
    if (pending.length >= MAX_BATCH_CHARS) flushLogLines();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flushAtEndOfTurn);
    }
    callback();
  }

  /** The logger ended (main's flush before exit): nothing stays behind. */
  override _final(callback: (error?: Error | null) => void): void {
    flushLogLines();
    callback();
  }
}

/** Tests only: where the batches go, and back to stdout with no argument. */
export function setLogOutputForTests(to: Output = process.stdout): void {
  flushLogLines();
  output = to;
}
