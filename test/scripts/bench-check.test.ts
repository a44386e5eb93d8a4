// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSameAnswers } from '../../scripts/bench-check';
import { scenarios } from '../../scripts/bench-scenarios';
import { groundworkArguments } from '../../scripts/bench-servers';

/** A server that answers every POST with `answer` (status 200 unless given), as the bench's servers would. */
async function fakeServer(answer: object, status = 200): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    request.resume().on('end', () => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const [q1, , q3] = scenarios({ taskId: 't-1', organizationId: 'o-1' });
const expected = { taskId: 't-1', authorId: 'u-9', organizationId: 'o-1' };
const task = { id: 't-1', title: 'Fix', status: 'TODO', assignee: { id: 'u-1', name: 'Ada' } };
const pgTask = { rowId: 't-1', title: 'Fix', status: 'TODO', userByAssigneeId: { rowId: 'u-1', name: 'Ada' } };

describe('npm run bench: the check before measuring', () => {
  const servers: { close(): Promise<void> }[] = [];
  const start = async (answer: object, status?: number) => {
    const server = await fakeServer(answer, status);
    servers.push(server);
    return server.url;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('passes when every server answers the same data', async () => {
    const running = [
      { name: 'groundwork', kind: 'groundwork' as const, baseUrl: await start({ data: { task } }) },
      { name: 'reference', kind: 'reference' as const, baseUrl: await start({ data: task }) },
      { name: 'postgraphile', kind: 'postgraphile' as const, baseUrl: await start({ data: { taskByRowId: pgTask } }) },
    ];
    expect(await checkSameAnswers(running, [q1], {}, expected, async () => expected)).toEqual([
      `same answers from groundwork, reference, postgraphile: ${q1.name}`,
    ]);
  });

  it('asks a baseline build what it asks groundwork, and names it baseline', async () => {
    const running = [
      { name: 'groundwork', kind: 'groundwork' as const, baseUrl: await start({ data: { task } }) },
      {
        name: 'baseline',
        kind: 'groundwork' as const,
        baseUrl: await start({ data: { task: { ...task, title: 'x' } } }),
      },
    ];
    await expect(checkSameAnswers(running, [q1], {}, expected, async () => expected)).rejects.toThrow(
      `${q1.name}: groundwork and baseline answer differently, so the bench will not measure: $.title`,
    );
  });

  it('refuses to measure when one server answers other data, naming both and where they differ', async () => {
    const running = [
      { name: 'groundwork', kind: 'groundwork' as const, baseUrl: await start({ data: { task } }) },
      {
        name: 'postgraphile',
        kind: 'postgraphile' as const,
        baseUrl: await start({ data: { taskByRowId: { ...pgTask, userByAssigneeId: null } } }),
      },
    ];
    await expect(checkSameAnswers(running, [q1], {}, expected, async () => expected)).rejects.toThrow(
      `${q1.name}: groundwork and postgraphile answer differently, so the bench will not measure: $.assignee: {"id":"u-1","name":"Ada"} vs null`,
    );
  });

  it('refuses a server that answers with errors or an error status', async () => {
    const withErrors = [
      {
        name: 'groundwork',
        kind: 'groundwork' as const,
        baseUrl: await start({ data: null, errors: [{ message: 'NOT_FOUND' }] }),
      },
    ];
    await expect(checkSameAnswers(withErrors, [q1], {}, expected, async () => expected)).rejects.toThrow(
      /answered 200: .*NOT_FOUND/,
    );
    const unauthorized = [
      { name: 'reference', kind: 'reference' as const, baseUrl: await start({ error: 'invalid token' }, 401) },
    ];
    await expect(checkSameAnswers(unauthorized, [q1], {}, expected, async () => expected)).rejects.toThrow(
      /answered 401/,
    );
  });

  it('reads a new comment back and refuses one stored for another author', async () => {
    const running = [
      {
        name: 'groundwork',
        kind: 'groundwork' as const,
        baseUrl: await start({ data: { addComment: { id: 'c-1', body: 'bench comment', createdAt: 'x' } } }),
      },
      {
        name: 'reference',
        kind: 'reference' as const,
        baseUrl: await start({ data: { id: 'c-2', body: 'bench comment', createdAt: 'y' } }),
      },
    ];
    const stored: Record<string, typeof expected> = { 'c-1': expected, 'c-2': { ...expected, authorId: 'u-2' } };
    await expect(checkSameAnswers(running, [q3], {}, expected, async (id) => stored[id])).rejects.toThrow(
      `${q3.name}: reference stored another comment than the one asked for: $.stored.authorId: "u-2" vs "u-9"`,
    );
    stored['c-2'] = expected;
    expect(await checkSameAnswers(running, [q3], {}, expected, async (id) => stored[id])).toHaveLength(1);
  });
});

describe('npm run bench -- --node-flags', () => {
  it("starts groundwork with the flags before the Dockerfile's start, and the baseline as shipped", () => {
    const settings = { nodeFlags: ['--max-semi-space-size=32'], profile: false };
    expect(groundworkArguments(settings, false)).toEqual([
      '--max-semi-space-size=32',
      '--heap-growing-percent=80',
      'dist/src/main.js',
    ]);
    expect(groundworkArguments(settings, true)).toEqual(['--heap-growing-percent=80', 'dist/src/main.js']);
    expect(groundworkArguments({ profile: true }, false)).toEqual([
      '-r',
      './dist/scripts/bench-profile-agent.js',
      '--heap-growing-percent=80',
      'dist/src/main.js',
    ]);
  });
});
