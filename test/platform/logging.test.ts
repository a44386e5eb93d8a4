import { createLogger } from '../../src/platform/logging/logger';
import { REDACTED, redact } from '../../src/platform/logging/redact';
import { MemoryTransport } from '../support/memory-transport';
import { signUp, startTestApp, type TestApp } from '../support/test-app';

describe('redact', () => {
  it('replaces values under secret-looking keys at any depth, in objects and arrays', () => {
    const input = {
      user: { email: 'a@example.com', password: 'hunter2hunter2', profile: { apiKey: 'k-123' } },
      headers: { Authorization: 'Bearer abc', 'x-request-id': 'r1' },
      sessions: [{ refreshToken: 'rt-1', id: 1 }],
      JWT_SECRET: 's3cret',
      count: 3,
    };
    expect(redact(input)).toEqual({
      user: { email: 'a@example.com', password: REDACTED, profile: { apiKey: REDACTED } },
      headers: { Authorization: REDACTED, 'x-request-id': 'r1' },
      sessions: [{ refreshToken: REDACTED, id: 1 }],
      JWT_SECRET: REDACTED,
      count: 3,
    });
  });

  it('leaves the original untouched and survives cycles', () => {
    const input: Record<string, unknown> = { token: 't' };
    input.self = input;
    const copy = redact(input) as Record<string, unknown>;
    expect(copy).toEqual({ token: REDACTED, self: '[Circular]' });
    expect(input.token).toBe('t');
  });

  it('redacts a logged object before any transport sees it', () => {
    const memory = new MemoryTransport();
    const logger = createLogger({ level: 'info', format: 'json', transports: [memory] });
    logger.info('variables', { variables: { input: { email: 'a@example.com', password: 'hunter2hunter2' } } });
    expect(memory.text()).not.toContain('hunter2hunter2');
    expect(memory.text()).toContain('a@example.com');
  });
});

describe('request logging', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp({ LOG_LEVEL: 'debug', LOG_SLOW_QUERY_MS: '1' });
  });

  afterAll(async () => {
    await api?.stop();
  });

  it('never writes passwords, access tokens, refresh tokens or the Authorization header', async () => {
    const user = await signUp(api, { password: 'unmistakable-password-1' });
    const logIn = await api.gql(
      `mutation LogIn($input: LogInInput!) { logIn(input: $input) { accessToken refreshToken } }`,
      { input: { email: user.user.email, password: user.password } },
    );
    const session = logIn.body.data!.logIn;
    const refreshed = await api.gql(
      `mutation R($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }`,
      {
        t: session.refreshToken,
      },
    );
    await api.gql('{ me { id } }', {}, { token: session.accessToken });
    await api.gql(`mutation L($t: String!) { logOut(refreshToken: $t) }`, {
      t: refreshed.body.data!.refreshSession.refreshToken,
    });

    const secrets = [
      user.password,
      user.accessToken,
      user.refreshToken,
      session.accessToken,
      session.refreshToken,
      refreshed.body.data!.refreshSession.accessToken,
      refreshed.body.data!.refreshSession.refreshToken,
      api.config.jwtSecret,
    ];
    const text = api.logs.text();
    expect(api.logs.find('sql').length).toBeGreaterThan(0);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/\$scrypt\$/);
  });

  it('writes one line per operation with its request id, name, user, duration and outcome', async () => {
    const user = await signUp(api);
    const response = await api.gql('query WhoAmI { me { id } }', {}, { token: user.accessToken });
    const requestId = response.headers.get('x-request-id');

    const lines = api.logs.find('graphql operation').filter((entry) => entry.requestId === requestId);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        operationName: 'WhoAmI',
        userId: user.user.id,
        outcome: 'ok',
        durationMs: expect.any(Number),
      }),
    ]);
  });

  it('names the error codes of a failed operation', async () => {
    const response = await api.gql(
      'mutation Bad { logIn(input: { email: "x@example.com", password: "nope-nope" }) { accessToken } }',
    );
    const requestId = response.headers.get('x-request-id');
    const [line] = api.logs.find('graphql operation').filter((entry) => entry.requestId === requestId);
    expect(line).toMatchObject({ operationName: 'Bad', outcome: 'error', errorCodes: ['UNAUTHENTICATED'] });
  });

  it('logs SQL at debug with the request id of the operation that ran it, without parameters', async () => {
    const user = await signUp(api);
    const requestId = 'sql-trace-1';
    await api.gql('{ me { id name } }', {}, { token: user.accessToken, headers: { 'x-request-id': requestId } });

    const statements = api.logs.find('sql').filter((entry) => entry.requestId === requestId);
    expect(statements).toEqual([
      expect.objectContaining({ level: 'debug', sql: expect.stringMatching(/FROM "?users"? /), parameterCount: 1 }),
    ]);
    expect(statements[0]).not.toHaveProperty('parameters');
  });

  it('logs slow SQL at warn and failed SQL at error', async () => {
    await api.app.dataSource.query('SELECT pg_sleep(0.02)');
    await expect(api.app.dataSource.query('SELECT * FROM no_such_table')).rejects.toThrow();

    expect(api.logs.find('slow sql')).toContainEqual(
      expect.objectContaining({ level: 'warn', sql: 'SELECT pg_sleep(0.02)', durationMs: expect.any(Number) }),
    );
    expect(api.logs.find('sql failed')).toContainEqual(
      expect.objectContaining({
        level: 'error',
        sql: 'SELECT * FROM no_such_table',
        error: expect.stringContaining('no_such_table'),
      }),
    );
  });
});

describe('JSON lines', () => {
  it('writes each line as JSON with level, message, the fields and a timestamp, in that order', () => {
    const memory = new MemoryTransport();
    const logger = createLogger({ level: 'info', format: 'json', transports: [memory] });
    logger.info('hello', { requestId: 'r1', nested: { count: 2, list: [1, 'two'] }, missing: undefined });
    const [line] = memory.lines;
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['requestId', 'nested', 'level', 'message', 'timestamp']);
    expect(parsed).toMatchObject({
      level: 'info',
      message: 'hello',
      requestId: 'r1',
      nested: { count: 2, list: [1, 'two'] },
    });
    expect(new Date(parsed.timestamp as string).toISOString()).toBe(parsed.timestamp);
  });

  it('writes what JSON.stringify cannot (a BigInt) as logform does, as a string', () => {
    const memory = new MemoryTransport();
    const logger = createLogger({ level: 'info', format: 'json', transports: [memory] });
    logger.info('big', { rows: 12345678901234567890n });
    expect(JSON.parse(memory.lines[0])).toMatchObject({ message: 'big', rows: '12345678901234567890' });
  });
});
