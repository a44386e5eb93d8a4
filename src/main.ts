import './platform/require-supported-node';
import 'reflect-metadata';
import { config as loadDotenv } from 'dotenv';
import type { App } from './app';
import { ConfigError, loadConfig, type LoadedConfig } from './config/config';
import { createLogger, type Logger } from './platform/logging/logger';
import type { Tracing } from './platform/telemetry/tracing';

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
  // Before the app is loaded: the pg instrumentation patches pg as it is first required.
  // The SDK (about 1.3 MB of live heap, its modules' code) is loaded only when tracing is on.
  const tracing = config.OTEL_EXPORTER_OTLP_ENDPOINT
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- the OpenTelemetry SDK, loaded only when tracing is on
      (require('./platform/telemetry/tracing') as typeof import('./platform/telemetry/tracing')).startTracing({
        endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
        serviceName: config.OTEL_SERVICE_NAME,
      })
    : undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only now, after tracing started (see above)
  const { createApp } = require('./app') as typeof import('./app');

  let app: App;
  try {
    app = await createApp(config, logger);
  } catch (error) {
    // A setting only the start can judge (a WORKER_MODULES name no module has) is reported as loadConfig's are.
    if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
    else logger.error('startup failed', { error });
    await flush(logger);
    process.exit(1);
  }
  stopOnSignals(app, logger, config.SHUTDOWN_TIMEOUT_MS, tracing);

  const url = await app.http.listen();
  logger.info(`groundwork ready at ${url}`, {
    database: config.DATABASE_URL ? 'postgres' : `embedded (${config.DATABASE_EMBEDDED_PATH})`,
    role: config.ROLE,
    sandbox: config.sandboxEnabled,
    ...(tracing ? { traces: config.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
  });
}

/** SIGTERM or SIGINT drains and exits 0; a second signal, or a drain that hangs, exits 1. */
function stopOnSignals(app: App, logger: Logger, timeoutMs: number, tracing: Tracing | undefined): void {
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
    app
      .stop()
      // The spans of the drain are exported before the exit; a collector that is away costs its timeout, no more.
      .then(() => tracing?.shutdown().catch(() => undefined))
      .then(
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
