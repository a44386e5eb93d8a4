import 'reflect-metadata';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/config';
import { defineConsumer } from '../../src/platform/events/event';
import { createLogger } from '../../src/platform/logging/logger';

/**
 * An app instance in a child process, for tests that kill one with SIGKILL.
 * Its `worker` consumer announces each event on stdout and then hangs, so
 * the kill lands mid-handler. Configured by the environment like the app.
 */
async function main(): Promise<void> {
  const { config } = loadConfig(process.env);
  const logger = createLogger({ level: 'warn', format: 'json' });
  const worker = defineConsumer<{ 'organization.created': object }>('worker', {
    'organization.created': async (event) => {
      process.stdout.write(`handling ${event.id}\n`);
      await new Promise(() => undefined);
    },
  });
  const app = await createApp(config, logger, { consumers: [worker] });
  process.stdout.write(`groundwork ready at ${await app.http.listen()}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
