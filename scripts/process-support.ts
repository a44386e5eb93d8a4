import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';

export const root = resolve(__dirname, '..');

export interface StartOptions {
  /** The node binary (default: this process's). */
  node?: string;
  /** Open an IPC channel (child.send / process.on('message')). */
  ipc?: boolean;
  /**
   * Write the output to this file (truncated first) instead of a pipe to this process, and watch it for `ready`:
   * a process logging under load then never waits for this one's event loop to drain a pipe.
   */
  logFile?: string;
  /** The directory it runs in (default: the repository root). */
  cwd?: string;
}

/** Runs a node script from the repository root (or `options.cwd`); resolves once its output matches `ready`, then drains the rest unread. */
export function startProcess(
  command: string[],
  env: Record<string, string>,
  ready: RegExp,
  options: StartOptions = {},
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const output: number | 'pipe' = options.logFile ? openSync(options.logFile, 'w') : 'pipe';
  const child = spawn(options.node ?? process.execPath, command, {
    cwd: options.cwd ?? root,
    env: { ...process.env, ...env },
    stdio: options.ipc ? ['ignore', output, output, 'ipc'] : ['ignore', output, output],
  });
  if (typeof output === 'number') closeSync(output);
  return options.logFile ? watchFile(child, options.logFile, command, ready) : watchPipes(child, command, ready);
}

function watchPipes(
  child: ChildProcess,
  command: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  let output = '';
  return new Promise((done, fail) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (!match) return;
      // From here on the output is drained unread: one log line per request would otherwise pile up here.
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      child.stdout!.resume();
      child.stderr!.resume();
      done({ child, match });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => fail(new Error(`${command.join(' ')} exited with ${code}:\n${output}`)));
  });
}

function watchFile(
  child: ChildProcess,
  file: string,
  command: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((done, fail) => {
    const poll = setInterval(() => {
      const match = ready.exec(readFileSync(file, 'utf8'));
      if (!match) return;
      clearInterval(poll);
      done({ child, match });
    }, 50);
    child.on('exit', (code) => {
      clearInterval(poll);
      fail(new Error(`${command.join(' ')} exited with ${code}:\n${readFileSync(file, 'utf8').slice(-4000)}`));
    });
  });
}

function statusField(pid: number, field: string): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${field}:`));
  return Math.round(Number(line?.replace(/\D+/g, '') ?? 0) / 1024);
}

/** The process's peak resident memory so far, MiB (Linux). */
export function peakRssMiB(pid: number): number {
  return statusField(pid, 'VmHWM');
}

/** The process's resident memory now, MiB (Linux). */
export function rssMiB(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** Reads the process's resident memory every `everyMs` until stopped; stop() answers the largest seen, MiB. */
export function sampleRss(pid: number, everyMs = 100): { stop(): number } {
  let peak = rssMiB(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssMiB(pid));
    },
  };
}

let clockTicks: number | undefined;

/** CPU time the process has used so far, user plus system, in seconds (Linux). */
export function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th of them.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The URL of database `name` on the server of `adminUrl`. */
export function databaseUrlOn(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Nearest-rank percentile of ascending values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
