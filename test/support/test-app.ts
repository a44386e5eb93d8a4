import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { createApp, type App, type AppOptions } from '../../src/app';
import { loadConfig, type Config } from '../../src/config/config';
import { createLogger } from '../../src/platform/logging/logger';
import { redisStreamsEnv } from './events';
import { MemoryTransport } from './memory-transport';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface GraphQLResponse<TData = Record<string, any>> {
  status: number;
  headers: Headers;
  body: {
    data?: TData | null;
    errors?: { message: string; path?: string[]; extensions: Record<string, any> }[];
    [key: string]: unknown;
  };
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
}

export interface TestApp {
  app: App;
  config: Config;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  logs: MemoryTransport;
  gql<TData = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: RequestOptions,
  ): Promise<GraphQLResponse<TData>>;
  stop(): Promise<void>;
}

/** One data key for every app of a test file, as one deployment shares it (a test of rotation sets its own). */
const TEST_DATA_KEYS = `test:${randomBytes(32).toString('base64')}`;

/**
 * The real app on a random port against a database of its own, logging into
 * memory at debug level. Settings default to fast test values; `env` overrides them.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  database?: TestDatabase,
  options: AppOptions = {},
): Promise<TestApp> {
  const db = database ?? (await createTestDatabase());
  // With TEST_REDIS_URL (CI's second pass) every app runs its events through Redis Streams, unless the test chose a transport.
  const redis =
    process.env.TEST_REDIS_URL && !env.REDIS_URL && !env.EVENTS_TRANSPORT
      ? redisStreamsEnv(process.env.TEST_REDIS_URL)
      : undefined;
  const { config } = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'debug',
    LOG_FORMAT: 'json',
    JWT_SECRET: randomBytes(32).toString('base64url'),
    DATA_ENCRYPTION_KEYS: TEST_DATA_KEYS,
    PASSWORD_HASH_COST: '12',
    SHUTDOWN_TIMEOUT_MS: '5000',
    MAIL_TRANSPORT: 'capture',
    ...db.env,
    ...redis?.env,
    // GRAPHQL_EXECUTOR=jit npx jest: the whole suite on graphql-jit.
    ...(process.env.GRAPHQL_EXECUTOR ? { GRAPHQL_EXECUTOR: process.env.GRAPHQL_EXECUTOR } : {}),
    ...env,
  });
  const logs = new MemoryTransport();
  const logger = createLogger({ level: config.LOG_LEVEL, format: config.logFormat, transports: [logs] });
  let app: App;
  try {
    app = await createApp(config, logger, options);
  } catch (error) {
    if (!database) await db.drop();
    throw error;
  }
  const graphqlUrl = await app.http.listen();
  const baseUrl = new URL(graphqlUrl).origin;

  return {
    app,
    config,
    baseUrl,
    logs,
    async gql<TData>(query: string, variables?: Record<string, unknown>, options: RequestOptions = {}) {
      const response = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as GraphQLResponse<TData>['body'];
      return { status: response.status, headers: response.headers, body };
    },
    async stop() {
      await app.stop();
      if (!database) await db.drop();
      await redis?.cleanup();
    },
  };
}

let userCounter = 0;

/** A unique email per call, so tests in one file never collide. */
export function uniqueEmail(prefix = 'user'): string {
  userCounter += 1;
  return `${prefix}-${userCounter}-${randomBytes(3).toString('hex')}@example.com`;
}

export const SIGN_UP = `
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) { accessToken refreshToken accessTokenExpiresAt user { id email name createdAt } }
  }`;

export interface SignedUp {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: string;
  user: { id: string; email: string; name: string; createdAt: string };
}

/** Signs a new user up and returns the payload; fails the test on any error. */
export async function signUp(
  testApp: TestApp,
  overrides: Partial<{ email: string; password: string; name: string }> = {},
) {
  const input = { email: uniqueEmail(), password: 'correct horse battery', name: 'Test User', ...overrides };
  const response = await testApp.gql<{ signUp: SignedUp }>(SIGN_UP, { input });
  if (response.body.errors) throw new Error(`signUp failed: ${JSON.stringify(response.body.errors)}`);
  return { ...response.body.data!.signUp, password: input.password };
}

/** Runs `work` while a table is renamed away: a realistic unexpected failure for any write that touches it. */
export async function withTableMissing<T>(testApp: TestApp, table: string, work: () => Promise<T>): Promise<T> {
  await testApp.app.dataSource.query(`ALTER TABLE "${table}" RENAME TO "${table}_missing"`);
  try {
    return await work();
  } finally {
    await testApp.app.dataSource.query(`ALTER TABLE "${table}_missing" RENAME TO "${table}"`);
  }
}
