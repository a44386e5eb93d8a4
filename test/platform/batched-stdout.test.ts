import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { BatchedStdoutTransport, setLogOutputForTests } from '../../src/platform/logging/batched-stdout';
import { createLogger } from '../../src/platform/logging/logger';
import { inheritedEnv } from '../support/child-process';

const root = resolve(__dirname, '../..');

/** Runs a few lines of TypeScript in a process of its own, as `node -r @swc-node/register -e` does; never rejects. */
async function runChild(source: string): Promise<{ code: number; stdout: string }> {
  return promisify(execFile)(process.execPath, ['-r', '@swc-node/register', '-e', source], {
    cwd: root,
    env: inheritedEnv(),
  }).then(
    (result) => ({ code: 0, stdout: result.stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
  );
}

function nextTurn(): Promise<void> {
  return new Promise((done) => setImmediate(done));
}

describe('stdout logging, one write per turn', () => {
  const writes: string[] = [];

  beforeEach(() => {
    writes.length = 0;
    setLogOutputForTests({ write: (chunk: string) => writes.push(chunk) });
  });

  afterAll(() => setLogOutputForTests());

  it('writes the lines of one turn in one write, in the order they were logged', async () => {
    const logger = createLogger({ level: 'info', format: 'json', transports: [new BatchedStdoutTransport()] });
    logger.info('first', { requestId: 'r1' });
    logger.warn('second', { requestId: 'r2' });
    logger.error('third', { requestId: 'r3' });
    expect(writes).toEqual([]);

    await nextTurn();
    expect(writes).toHaveLength(1);
    const lines = writes[0].split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => (JSON.parse(line) as { message: string }).message)).toEqual([
      'first',
      'second',
      'third',
    ]);
  });

  it('writes at once past 64 KiB instead of holding a large batch for the end of the turn', () => {
    const logger = createLogger({ level: 'info', format: 'json', transports: [new BatchedStdoutTransport()] });
    const big = 'x'.repeat(70 * 1024);
    logger.info('large', { big });
    expect(writes).toHaveLength(1);
    expect(writes[0]).toContain(big);
  });

  it('writes what is pending when the logger ends', async () => {
    const logger = createLogger({ level: 'info', format: 'json', transports: [new BatchedStdoutTransport()] });
    const finished = new Promise((done) => logger.on('finish', done));
    logger.info('last words');
    logger.end();
    await finished;
    expect(writes.join('')).toContain('last words');
  });
});

describe('stdout logging on the way out', () => {
  const logThen = (exit: string) => `
    const { createLogger } = require('./src/platform/logging/logger');
    const logger = createLogger({ level: 'info', format: 'json' });
    for (let i = 0; i < 3; i++) logger.info('line ' + i);
    ${exit}`;

  it("writes the last turn's lines when the process exits at once", async () => {
    const { code, stdout } = await runChild(logThen('process.exit(3);'));
    expect(code).toBe(3);
    expect(stdout).toMatch(/"message":"line 0".*\n.*"message":"line 1".*\n.*"message":"line 2"/);
  });

  it('writes them when the process dies of an uncaught exception', async () => {
    const { code, stdout } = await runChild(logThen("throw new Error('boom');"));
    expect(code).toBe(1);
    expect(stdout).toContain('"message":"line 2"');
  });
});
