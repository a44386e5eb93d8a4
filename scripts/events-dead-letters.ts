import type { Config } from '../src/config/config';
import {
  StreamDeadLetters,
  TableDeadLetters,
  type DeadLetter,
  type DeadLetters,
} from '../src/platform/events/dead-letters';
import { createRedisClient, streamKeys, untilReady } from '../src/platform/events/redis';
import type { Logger } from '../src/platform/logging/logger';
import { loadScriptConfig, scriptDataSource, scriptLogger } from './cli-support';

const USAGE = `Usage:
  npm run events:dead-letters                    list the events a consumer gave up on
  npm run events:dead-letters -- --json          the same, as JSON
  npm run events:dead-letters -- --replay <id>   hand one back to its consumer (its id from the list)`;

/** The dead letters of the configured transport: the Redis dead-letter stream, or the inline transport's table. */
async function openDeadLetters(
  config: Config,
  logger: Logger,
): Promise<{ store: DeadLetters; close(): Promise<void> }> {
  if (config.eventsTransport === 'redis-streams') {
    const redis = createRedisClient(config.REDIS_URL!, logger, 'events-dead-letters');
    await untilReady(redis, 5000);
    if (redis.status !== 'ready') throw new Error(`Redis at ${new URL(config.REDIS_URL!).host} does not answer`);
    return {
      store: new StreamDeadLetters(redis, streamKeys(config.REDIS_KEY_PREFIX)),
      close: async () => redis.disconnect(),
    };
  }
  const dataSource = await scriptDataSource(config, logger);
  await dataSource.initialize();
  return { store: new TableDeadLetters(dataSource), close: () => dataSource.destroy() };
}

function printTable(letters: DeadLetter[]): void {
  if (letters.length === 0) {
    process.stdout.write('No dead letters.\n');
    return;
  }
  const rows = letters.map((letter) => [
    letter.id,
    letter.consumer,
    letter.eventType,
    letter.eventId,
    String(letter.attempts),
    letter.failedAt.toISOString(),
    letter.error,
  ]);
  const header = ['id', 'consumer', 'type', 'event id', 'attempts', 'failed at', 'error'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => Math.min(row[column].length, 60))),
  );
  for (const row of [header, ...rows]) {
    process.stdout.write(
      `${row
        .map((cell, column) => cell.slice(0, 60).padEnd(widths[column]))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const replayAt = args.indexOf('--replay');
  const replayId = replayAt >= 0 ? args[replayAt + 1] : undefined;
  if (replayAt >= 0 && !replayId) {
    process.stderr.write(`--replay needs the id of a dead letter\n${USAGE}\n`);
    return 2;
  }
  const config = loadScriptConfig();
  const { store, close } = await openDeadLetters(config, scriptLogger(config));
  try {
    if (replayId) {
      if (!(await store.replay(replayId))) {
        process.stderr.write(`No dead letter ${replayId} (run without --replay to list them)\n`);
        return 1;
      }
      process.stdout.write(`Replayed ${replayId}: its consumer will handle the event again.\n`);
      return 0;
    }
    const letters = await store.list(1000);
    if (args.includes('--json')) process.stdout.write(`${JSON.stringify(letters, null, 2)}\n`);
    else printTable(letters);
    return 0;
  } finally {
    await close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`events:dead-letters failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
