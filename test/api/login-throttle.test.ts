import { SIGN_UP, signUp, startTestApp, uniqueEmail, withTableMissing, type TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

const LOG_IN = `mutation LogIn($input: LogInInput!) { logIn(input: $input) { accessToken user { id } } }`;

const PER_ACCOUNT_AND_IP = 3;
const PER_ACCOUNT = 6;

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({
    // Each test logs in from X-Forwarded-For addresses of its own.
    TRUST_PROXY: 'true',
    LOGIN_FAILURES_PER_ACCOUNT_AND_IP: String(PER_ACCOUNT_AND_IP),
    LOGIN_FAILURES_PER_ACCOUNT: String(PER_ACCOUNT),
    // Long enough that a busy machine never outlasts a wait between two requests.
    LOGIN_DELAY_FIRST: '60s',
  });
});

afterAll(async () => {
  await api?.stop();
});

let ipCounter = 0;
function newClientIp(): string {
  ipCounter += 1;
  return `203.0.113.${ipCounter}`;
}

function logIn(app: TestApp, email: string, password: string, ip: string) {
  return app.gql(LOG_IN, { input: { email, password } }, { headers: { 'x-forwarded-for': ip } });
}

function codeOf(response: Awaited<ReturnType<typeof logIn>>): string {
  return response.body.errors?.[0]?.extensions.code ?? 'OK';
}

/** The RATE_LIMITED answer's wait, checked against its Retry-After header. */
function retryAfterOf(response: Awaited<ReturnType<typeof logIn>>): number {
  const error = response.body.errors![0];
  expect(error.extensions).toMatchObject({
    code: 'RATE_LIMITED',
    retryAfterSeconds: expect.any(Number),
    requestId: expect.any(String),
  });
  expect(Number(response.headers.get('retry-after'))).toBe(error.extensions.retryAfterSeconds);
  return error.extensions.retryAfterSeconds as number;
}

async function failFrom(email: string, ip: string, times: number): Promise<void> {
  for (let attempt = 0; attempt < times; attempt += 1)
    expect(codeOf(await logIn(api, email, 'wrong password', ip))).toBe('UNAUTHENTICATED');
}

describe('logIn throttling per account and address', () => {
  it('When one address fails 3 times on an account, then its next attempt, even with the right password, is RATE_LIMITED with retryAfterSeconds', async () => {
    const user = await signUp(api);
    const attacker = newClientIp();
    await failFrom(user.user.email, attacker, PER_ACCOUNT_AND_IP);

    const refused = await logIn(api, user.user.email, user.password, attacker);
    expect(refused.body.data).toBeNull();
    const retryAfter = retryAfterOf(refused);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('When an attacker’s address is throttled, then the owner’s right password from their own address works, and the attacker stays throttled', async () => {
    const user = await signUp(api);
    const attacker = newClientIp();
    await failFrom(user.user.email, attacker, PER_ACCOUNT_AND_IP);
    expect(codeOf(await logIn(api, user.user.email, 'another guess', attacker))).toBe('RATE_LIMITED');

    const owner = await logIn(api, user.user.email, user.password, newClientIp());
    expect(owner.body.errors).toBeUndefined();
    expect(owner.body.data!.logIn.user.id).toBe(user.user.id);
    expect(codeOf(await logIn(api, user.user.email, user.password, attacker))).toBe('RATE_LIMITED');
  });

  it('When an email has no account, then it is throttled exactly like one that has', async () => {
    const nobody = uniqueEmail('nobody');
    const ip = newClientIp();
    await failFrom(nobody, ip, PER_ACCOUNT_AND_IP);
    expect(retryAfterOf(await logIn(api, nobody, 'wrong password', ip))).toBeLessThanOrEqual(60);
  });

  it('When a burst of guesses arrives at once, then no more get a password check than one by one would', async () => {
    const user = await signUp(api);
    const attacker = newClientIp();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => logIn(api, user.user.email, 'wrong password', attacker)),
    );
    const codes = answers.map(codeOf).sort();
    expect(codes).toEqual([
      ...Array<string>(10 - PER_ACCOUNT_AND_IP).fill('RATE_LIMITED'),
      ...Array<string>(PER_ACCOUNT_AND_IP).fill('UNAUTHENTICATED'),
    ]);
  });

  it('When a success comes in between, then the failures before it are forgotten', async () => {
    const user = await signUp(api);
    const ip = newClientIp();
    for (let round = 0; round < 2; round += 1) {
      await failFrom(user.user.email, ip, PER_ACCOUNT_AND_IP - 1);
      expect((await logIn(api, user.user.email, user.password, ip)).body.errors).toBeUndefined();
    }
  });

  it('When the check fails on our side (the users table is gone), then the attempt is no failure', async () => {
    const user = await signUp(api);
    const ip = newClientIp();
    await withTableMissing(api, 'users', async () => {
      for (let attempt = 0; attempt < PER_ACCOUNT_AND_IP; attempt += 1) {
        expect(codeOf(await logIn(api, user.user.email, 'wrong password', ip))).toBe('INTERNAL_SERVER_ERROR');
      }
    });
    await failFrom(user.user.email, ip, PER_ACCOUNT_AND_IP);
  });
});

describe('logIn throttling per account, from every address', () => {
  /** One failure from each of `count` fresh addresses: none of them reaches its own limit. */
  async function failFromEverywhere(email: string, count: number): Promise<void> {
    for (let attempt = 0; attempt < count; attempt += 1) await failFrom(email, newClientIp(), 1);
  }

  it('When failures from many addresses reach the ceiling, then new addresses wait but the addresses the owner signed up and in from get in', async () => {
    const signUpIp = newClientIp();
    const email = uniqueEmail('owner');
    const password = 'correct horse battery';
    expect(
      (
        await api.gql(
          SIGN_UP,
          { input: { email, password, name: 'Owner' } },
          { headers: { 'x-forwarded-for': signUpIp } },
        )
      ).body.errors,
    ).toBeUndefined();
    const ownerIp = newClientIp();
    expect((await logIn(api, email, password, ownerIp)).body.errors).toBeUndefined();

    await failFromEverywhere(email, PER_ACCOUNT);
    expect(retryAfterOf(await logIn(api, email, password, newClientIp()))).toBeLessThanOrEqual(60);
    expect((await logIn(api, email, password, signUpIp)).body.errors).toBeUndefined();

    await failFromEverywhere(email, PER_ACCOUNT);
    expect(codeOf(await logIn(api, email, password, newClientIp()))).toBe('RATE_LIMITED');
    expect((await logIn(api, email, password, ownerIp)).body.errors).toBeUndefined();
    // The owner's success forgot the account's failures: new addresses are welcome again.
    expect((await logIn(api, email, password, newClientIp())).body.errors).toBeUndefined();
  });
});

describe('the growing wait', () => {
  let quick: TestApp;

  beforeAll(async () => {
    // A first wait of 4 s doubles to 8 s, capped at 7 s; the address budget leaves room for polling.
    quick = await startTestApp({
      TRUST_PROXY: 'true',
      LOGIN_FAILURES_PER_ACCOUNT_AND_IP: '2',
      LOGIN_DELAY_FIRST: '4s',
      LOGIN_DELAY_MAX: '7s',
      LOGIN_RATE_LIMIT_PER_IP: '100000',
    });
  });

  afterAll(async () => {
    await quick?.stop();
  });

  it('When the wait has passed and the next attempt fails too, then the wait after it is longer, up to LOGIN_DELAY_MAX', async () => {
    const user = await signUp(quick);
    const ip = newClientIp();
    for (let attempt = 0; attempt < 2; attempt += 1)
      expect(codeOf(await logIn(quick, user.user.email, 'wrong password', ip))).toBe('UNAUTHENTICATED');
    const firstWait = retryAfterOf(await logIn(quick, user.user.email, 'wrong password', ip));
    expect(firstWait).toBeLessThanOrEqual(4);

    await waitFor(
      async () => codeOf(await logIn(quick, user.user.email, 'wrong password', ip)) === 'UNAUTHENTICATED',
      'the first wait to pass',
      20_000,
    );
    const secondWait = retryAfterOf(await logIn(quick, user.user.email, 'wrong password', ip));
    expect(secondWait).toBeGreaterThan(4);
    expect(secondWait).toBeLessThanOrEqual(7);
  });
});
