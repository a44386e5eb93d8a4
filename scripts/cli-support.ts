import 'reflect-metadata';
import { config as loadDotenv } from 'dotenv';
import type { DataSource } from 'typeorm';
import { entities } from '../src/app';
import { ConfigError, loadConfig, type Config } from '../src/config/config';
import { migrations } from '../src/modules';
import { createDataSource } from '../src/platform/database/data-source';
import { createLogger, type Logger } from '../src/platform/logging/logger';

/** Config from the environment (and .env), as the app reads it; a bad one ends the script with the list of problems. */
export function loadScriptConfig(): Config {
  loadDotenv({ quiet: true });
  try {
    return loadConfig(process.env).config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

export function scriptLogger(config: Config): Logger {
  return createLogger({ level: config.LOG_LEVEL, format: config.logFormat });
}

/** The app's DataSource (same factory, entities and migrations), not yet initialized. */
export function scriptDataSource(config: Config, logger: Logger): Promise<DataSource> {
  return createDataSource({
    url: config.DATABASE_URL,
    embeddedPath: config.DATABASE_EMBEDDED_PATH,
    poolMax: 2,
    slowQueryMs: config.LOG_SLOW_QUERY_MS,
    logger,
    entities,
    migrations,
  });
}
