import './platform/require-supported-node';
import 'reflect-metadata';
import { config as loadDotenv } from 'dotenv';
import { createApp, type App } from './app';
import { ConfigError, loadConfig, type LoadedConfig } from './config/config';
import { createLogger, type Logger } from './platform/logging/logger';

async function main(): Promise<void> {
  loadDotenv({ quiet: true });
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const { config, warnings } = loaded;
  const logger = createLogger({ level: config.LOG_LEVEL, format: config.logFormat });
  for (const warning of warnings) logger.warn(warning);

  let app: App;
  try {
    app = await createApp(config, logger);
  } catch (error) {
    logger.error('startup failed', { error });
    await flush(logger);
    process.exit(1);
  }
  stopOnSignals(app, logger, config.SHUTDOWN_TIMEOUT_MS);

  const url = await app.http.listen();
  logger.info(`groundwork ready at ${url}`, {
    database: config.DATABASE_URL ? 'postgres' : `embedded (${config.DATABASE_EMBEDDED_PATH})`,
    sandbox: config.sandboxEnabled,
  });
}

/** SIGTERM or SIGINT drains and exits 0; a second signal, or a drain that hangs, exits 1. */
function stopOnSignals(app: App, logger: Logger, timeoutMs: number): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without finishing`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal}: shutting down`);
    // The drain itself is bounded by SHUTDOWN_TIMEOUT_MS; this is the backstop for the database close.
    setTimeout(() => {
      logger.error('shutdown did not finish in time');
      process.exit(1);
    }, timeoutMs + 5000).unref();
    app.stop().then(
      async () => {
        logger.info('stopped');
        await flush(logger);
        process.exit(0);
      },
      async (error: unknown) => {
        logger.error('shutdown failed', { error });
        await flush(logger);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function flush(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    logger.on('finish', () => resolve());
    logger.end();
    setTimeout(resolve, 500).unref();
  });
}

void main();
