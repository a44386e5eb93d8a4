import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Self time of a V8 CPU profile (.cpuprofile, as the inspector's
 * Profiler.stop returns it) by bucket, for `npm run bench -- --profile`. A
 * sample's time goes to the bucket of the function it was in, by the script
 * URL of that function; a function without one (a V8 builtin or native
 * binding: JSON.stringify, Array.map, the socket's writev) or in Node's own
 * library (node:*) counts for the nearest caller in a package or the app, so
 * the response's JSON.stringify lands in Apollo and pg's socket writes in pg.
 * Only what no package or app code called (the event loop, I/O callbacks)
 * stays "Node core".
 */
export interface CallFrame {
  functionName: string;
  url: string;
}
export interface CpuProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Bucket {
  name: string;
  /** How a frame is matched, as the bench prints it. */
  how: string;
  packages?: string[];
}

/** npm packages by the dependency that brought them in (npm ls of this project), first match wins. */
export const BUCKETS: Bucket[] = [
  { name: 'GC', how: 'V8 node "(garbage collector)"' },
  { name: 'graphql execution', how: 'graphql/ except language/ and validation/ (execute, types, values, errors)' },
  { name: 'graphql parse + validate', how: 'graphql/language/, graphql/validation/' },
  {
    name: 'Apollo',
    how: '@apollo/*, @as-integrations/*, @graphql-tools/*, lru-cache, negotiator, content-type, whatwg-mimetype, uuid',
    packages: [
      '@apollo/',
      '@as-integrations/',
      '@graphql-tools/',
      'lru-cache',
      'negotiator',
      'content-type',
      'whatwg-mimetype',
      'uuid',
    ],
  },
  {
    name: 'type-graphql',
    how: 'type-graphql, @graphql-yoga/*, @repeaterjs/*',
    packages: ['type-graphql', '@graphql-yoga/', '@repeaterjs/'],
  },
  {
    name: 'validation',
    how: 'class-validator, validator, libphonenumber-js',
    packages: ['class-validator', 'validator', 'libphonenumber-js'],
  },
  {
    name: 'cost analysis',
    how: 'graphql-query-complexity, lodash.get, @escape.tech/* (graphql-armor)',
    packages: ['graphql-query-complexity', 'lodash.get', '@escape.tech/'],
  },
  { name: 'TypeORM', how: 'typeorm, dayjs, sql-highlight', packages: ['typeorm', 'dayjs', 'sql-highlight'] },
  {
    name: 'pg',
    how: 'pg, pg-*, postgres-*, pgpass, split2, xtend',
    packages: ['pg', 'pg-', 'postgres-', 'pgpass', 'split2', 'xtend'],
  },
  { name: 'JWT', how: 'jose', packages: ['jose'] },
  {
    name: 'logging',
    how: "winston, winston-transport, logform, triple-beam, readable-stream, safe-stable-stringify and winston's helpers",
    packages: [
      'winston',
      'winston-',
      'logform',
      'triple-beam',
      'readable-stream',
      'string_decoder',
      'util-deprecate',
      'safe-stable-stringify',
      'fecha',
      '@colors/',
      '@dabh/',
      'kuler',
      'enabled',
      'text-hex',
      'color',
      'one-time',
      'fn.name',
      'stack-trace',
      'is-stream',
      'async',
    ],
  },
  {
    name: 'fastify',
    how: "fastify, @fastify/*, find-my-way, avvio, light-my-request, pino*, fast-*, ajv and fastify's other dependencies",
    packages: [
      'fastify',
      '@fastify/',
      'find-my-way',
      'avvio',
      'light-my-request',
      'pino',
      'pino-',
      '@pinojs/',
      'sonic-boom',
      'thread-stream',
      'fast-',
      'fastq',
      'reusify',
      'secure-json-parse',
      'rfdc',
      'toad-cache',
      'ajv',
      'abstract-logging',
      'process-warning',
      'ret',
      'safe-regex2',
      'quick-format-unescaped',
      'atomic-sleep',
      'set-cookie-parser',
      'cookie',
      'dequal',
      'json-schema-ref-resolver',
    ],
  },
  { name: 'metrics', how: 'prom-client, tdigest, bintrees', packages: ['prom-client', 'tdigest', 'bintrees'] },
  { name: 'groundwork code', how: "the app's own compiled code: /dist/src/ (or /src/) outside node_modules" },
  { name: 'Node core', how: 'node:* URLs with no package or app code above them (event loop, socket reads, timers)' },
  { name: 'V8 (program)', how: 'V8 node "(program)": time in native code and the VM not attributed to a JS function' },
  { name: 'other', how: 'everything else (the largest parts are listed)' },
];

const matchesPackage = (name: string, pattern: string) =>
  pattern.endsWith('/') || pattern.endsWith('-') ? name.startsWith(pattern) : name === pattern;

/** The npm package a script URL belongs to (the innermost node_modules), and the path inside it. */
export function packageOf(url: string): { name: string; path: string } | undefined {
  const at = url.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const parts = url.slice(at + '/node_modules/'.length).split('/');
  const length = parts[0].startsWith('@') ? 2 : 1;
  return { name: parts.slice(0, length).join('/'), path: parts.slice(length).join('/') };
}

/** The bucket of a frame by its URL or V8's own node names; undefined for builtins and the root, which take their caller's. */
export function bucketOf(frame: CallFrame): string | undefined {
  if (frame.functionName === '(garbage collector)') return 'GC';
  // The bench's own profiler agent is not the server's work.
  if (frame.functionName === '(idle)' || frame.url.includes('bench-profile-agent')) return 'idle';
  if (frame.functionName === '(program)') return 'V8 (program)';
  if (frame.functionName === '(root)') return undefined;
  if (!frame.url) return undefined;
  if (frame.url.startsWith('node:')) return 'Node core';
  const found = packageOf(frame.url);
  if (found?.name === 'graphql')
    return /^(language|validation)\//.test(found.path) ? 'graphql parse + validate' : 'graphql execution';
  if (found)
    return (
      BUCKETS.find((bucket) => bucket.packages?.some((pattern) => matchesPackage(found.name, pattern)))?.name ?? 'other'
    );
  return /\/(dist\/)?src\//.test(frame.url) ? 'groundwork code' : 'other';
}

/** What "other" holds, by package (or file), to show what no bucket claimed. */
function otherLabel(frame: CallFrame): string {
  return (
    packageOf(frame.url)?.name ??
    (frame.url ? frame.url.replace(/^.*\//, '') : frame.functionName || '(anonymous builtin)')
  );
}

/** Native calls that write to a socket, pipe or file (the time of the system call). */
const WRITES = new Set([
  'writev',
  'writeUtf8String',
  'writeBuffer',
  'writeLatin1String',
  'writeAsciiString',
  'writeUcs2String',
  'writeString',
]);

export interface ProfileSummary {
  /** Sampled time not idle, ms. */
  busyMs: number;
  /** Of busyMs, in native write calls (counted in their caller's bucket too). */
  writesMs: number;
  /** Self time by bucket, ms; every bucket of BUCKETS present. */
  byBucket: Map<string, number>;
  /** The parts of "other", ms, largest first. */
  other: [string, number][];
}

export function summarise(profile: CpuProfile): ProfileSummary {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  type Attribution = { bucket: string; frame: CallFrame } | undefined;
  const resolved = new Map<number, Attribution>();
  // A builtin or node:* frame takes its nearest caller's bucket; node:* with no such caller is Node core.
  const attribute = (id: number): Attribution => {
    if (resolved.has(id)) return resolved.get(id);
    const node = nodes.get(id)!;
    const own = bucketOf(node.callFrame);
    const up = parent.get(id);
    let result: Attribution =
      own && own !== 'Node core'
        ? { bucket: own, frame: node.callFrame }
        : up === undefined
          ? undefined
          : attribute(up);
    if (!result && own === 'Node core') result = { bucket: own, frame: node.callFrame };
    resolved.set(id, result);
    return result;
  };
  const resolve = (id: number) => attribute(id) ?? { bucket: 'other', frame: nodes.get(id)!.callFrame };

  const byBucket = new Map(BUCKETS.map((bucket) => [bucket.name, 0]));
  const other = new Map<string, number>();
  let busyUs = 0;
  let writesUs = 0;
  let at = profile.startTime;
  const times = profile.timeDeltas.map((delta) => (at += delta));
  profile.samples.forEach((id, index) => {
    // A sample stands for the time until the next one (as Chrome DevTools counts it).
    const duration = Math.max(0, (times[index + 1] ?? profile.endTime) - times[index]);
    const { bucket, frame } = resolve(id);
    if (bucket === 'idle') return;
    busyUs += duration;
    if (WRITES.has(nodes.get(id)!.callFrame.functionName) && !nodes.get(id)!.callFrame.url) writesUs += duration;
    byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + duration);
    if (bucket === 'other') other.set(otherLabel(frame), (other.get(otherLabel(frame)) ?? 0) + duration);
  });
  const ms = (us: number) => us / 1000;
  return {
    busyMs: ms(busyUs),
    writesMs: ms(writesUs),
    byBucket: new Map([...byBucket].map(([name, us]) => [name, ms(us)])),
    other: [...other].map(([name, us]): [string, number] => [name, ms(us)]).sort((a, b) => b[1] - a[1]),
  };
}

/** A markdown table: one row per bucket, per scenario its share of busy time; then CPU per request and what "other" holds. */
export function bucketTable(
  results: { name: string; summary: ProfileSummary; requests: number; cpuMsPerRequest: number }[],
): string {
  const percent = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-');
  const lines = [
    `| bucket | ${results.map((result) => `${result.name}, % of busy`).join(' | ')} | matched by |`,
    `|---|${results.map(() => '---|').join('')}---|`,
    ...BUCKETS.map(
      (bucket) =>
        `| ${bucket.name} | ${results.map(({ summary }) => percent(summary.byBucket.get(bucket.name) ?? 0, summary.busyMs)).join(' | ')} | ${bucket.how} |`,
    ),
    `| of all the above, in write calls | ${results.map(({ summary }) => percent(summary.writesMs, summary.busyMs)).join(' | ')} | native writev/write*String/writeBuffer (socket, pipe, file), also in their caller's bucket |`,
    `| busy, ms per request | ${results.map(({ summary, requests }) => (requests > 0 ? (summary.busyMs / requests).toFixed(2) : '-')).join(' | ')} | sampled time not idle ÷ requests: wall time, so on a busy machine it includes waiting for a CPU |`,
    `| CPU, ms per request | ${results.map(({ cpuMsPerRequest }) => cpuMsPerRequest.toFixed(2)).join(' | ')} | user + system time of the process (/proc) ÷ requests |`,
  ];
  const others = results.map(
    ({ name, summary }) =>
      `${name}: ${
        summary.other
          .slice(0, 5)
          .map(([label, ms]) => `${label} ${percent(ms, summary.busyMs)}`)
          .join(', ') || 'nothing'
      }`,
  );
  return `${lines.join('\n')}\n\n"other" holds: ${others.join('; ')}\n`;
}

/** Asks the agent in `child` for one profile around `load`, written to `file`; answers the profile and what `load` answered. */
export async function profileAround<T>(
  child: ChildProcess,
  file: string,
  load: () => Promise<T>,
): Promise<{ profile: CpuProfile; result: T }> {
  const reply = (key: string) =>
    new Promise<void>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(key in message) && !('error' in message)) return;
        child.off('message', onMessage);
        if ('error' in message) reject(new Error(`profiler: ${String(message.error)}`));
        else resolve();
      };
      child.on('message', onMessage);
    });
  const started = reply('profiling');
  child.send({ profile: 'start' });
  await started;
  const result = await load();
  const stopped = reply('profiled');
  child.send({ profile: 'stop', file });
  await stopped;
  return { profile: JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, result };
}
