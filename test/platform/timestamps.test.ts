import { Client, types } from 'pg';
import { createDataSource } from '../../src/platform/database/data-source';
import { startEmbeddedPostgres } from '../../src/platform/database/embedded';
import { parseTimestamptz, readTimestamptz } from '../../src/platform/database/timestamps';
import { createLogger } from '../../src/platform/logging/logger';
import { MemoryTransport } from '../support/memory-transport';
import { usingPostgres } from '../support/test-database';

// pg-types' own parser (postgres-date), as pg registers it before the app replaces it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parseDate = require('postgres-date') as (text: string) => unknown;

const time = (value: unknown) => (value instanceof Date ? value.getTime() : value);

/** A deterministic stream of numbers in [0, 1): the same texts on every run. */
function sequence(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

it('reads the texts PostgreSQL writes as pg does: fractions of 0 to 6 digits, offsets by the hour and the minute', () => {
  const next = sequence(42);
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  const offsets = ['+00', '-05', '+05:30', '-03:30', '+14', '-12', '+05:45', '-09:30', '+00:00'];
  for (let i = 0; i < 20_000; i += 1) {
    const year = 1000 + Math.floor(next() * 9000);
    const digits = Math.floor(next() * 7);
    const fraction = digits === 0 ? '' : `.${pad(Math.floor(next() * 10 ** digits), digits)}`;
    const text =
      `${year}-${pad(1 + Math.floor(next() * 12), 2)}-${pad(1 + Math.floor(next() * 28), 2)} ` +
      `${pad(Math.floor(next() * 24), 2)}:${pad(Math.floor(next() * 60), 2)}:${pad(Math.floor(next() * 60), 2)}` +
      `${fraction}${offsets[Math.floor(next() * offsets.length)]}`;
    const read = readTimestamptz(text);
    if (!(read instanceof Date) || read.getTime() !== time(parseDate(text)))
      throw new Error(`${text}: ${String(read)} against pg's ${String(parseDate(text))}`);
  }
});

it.each([
  'infinity',
  '-infinity',
  '0099-01-02 03:04:05+00',
  '0001-01-01 00:00:00+00 BC',
  '12345-01-02 03:04:05+00',
  '2026-01-02 03:04:05.1234567+00',
  '2026-01-02 03:04:05+05:30:15',
  '2026-01-02 03:04:05.+00',
  '2026-01-02 03:04:05',
  '2026-01-02',
  '2026-01-02T03:04:05Z',
  '2026-13-02 03:04:05+00x',
])('leaves %s to pg’s parser, and so answers what it does', (text) => {
  expect(readTimestamptz(text)).toBeUndefined();
  expect(time(parseTimestamptz(text))).toEqual(time(parseDate(text)));
});

it('reads what PostgreSQL writes in any session time zone as the instant it stored', async () => {
  const embedded = usingPostgres ? undefined : await startEmbeddedPostgres('memory://');
  const client = new Client(
    embedded
      ? { host: embedded.socketDirectory, port: embedded.port, user: 'postgres', database: 'postgres' }
      : { connectionString: process.env.TEST_DATABASE_URL },
  );
  await client.connect();
  try {
    for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Kiritimati', 'Asia/Kathmandu']) {
      await client.query(`SET TIME ZONE '${zone}'`);
      const { rows } = await client.query<{ text: string; ms: string }>(
        `SELECT t::text AS text, floor(extract(epoch FROM t) * 1000)::bigint::text AS ms
           FROM (VALUES (timestamptz '2026-12-03 15:28:29.123456+00'), (timestamptz '1999-12-31 23:59:59+00'),
                        (timestamptz '2026-06-30 12:00:00.5-07'), (now())) AS v(t)`,
      );
      for (const row of rows) {
        const read = readTimestamptz(row.text);
        expect([zone, row.text, read?.getTime()]).toEqual([zone, row.text, Number(row.ms)]);
      }
    }
  } finally {
    await client.end();
    await embedded?.stop();
  }
});

it('is the parser pg reads a timestamptz with once a data source was made', async () => {
  expect(types.getTypeParser(types.builtins.TIMESTAMPTZ, 'text')).not.toBe(parseTimestamptz);
  // Made, not initialized: nothing connects.
  await createDataSource({
    url: 'postgres://nobody@127.0.0.1:1/none',
    embeddedPath: 'memory://',
    poolMax: 1,
    slowQueryMs: 1000,
    logger: createLogger({ level: 'error', format: 'json', transports: [new MemoryTransport()] }),
    entities: [],
    migrations: [],
  });
  expect(types.getTypeParser(types.builtins.TIMESTAMPTZ, 'text')).toBe(parseTimestamptz);
});
