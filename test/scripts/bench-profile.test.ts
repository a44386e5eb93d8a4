// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import {
  BUCKETS,
  bucketOf,
  bucketTable,
  packageOf,
  summarise,
  type CallFrame,
  type CpuProfile,
} from '../../scripts/bench-profile';

const app = 'file:///work/main';
const frame = (functionName: string, url = ''): CallFrame => ({ functionName, url });

/** A profile from call paths: each sample is a path from the root and lasts `us` microseconds. */
function profileOf(samples: { path: CallFrame[]; us: number }[]): CpuProfile {
  const nodes: CpuProfile['nodes'] = [{ id: 1, callFrame: frame('(root)'), children: [] }];
  const ids: number[] = [];
  for (const { path } of samples) {
    let parent = nodes[0];
    for (const callFrame of path) {
      let child = nodes.find(
        (node) =>
          parent.children!.includes(node.id) &&
          node.callFrame.functionName === callFrame.functionName &&
          node.callFrame.url === callFrame.url,
      );
      if (!child) {
        child = { id: nodes.length + 1, callFrame, children: [] };
        nodes.push(child);
        parent.children!.push(child.id);
      }
      parent = child;
    }
    ids.push(parent.id);
  }
  // timeDeltas[i] is the gap before sample i; sample i lasts until sample i + 1 (the last until endTime).
  const timeDeltas = samples.map((_, index) => (index === 0 ? 0 : samples[index - 1].us));
  return {
    nodes,
    startTime: 1000,
    endTime: 1000 + samples.reduce((sum, { us }) => sum + us, 0),
    samples: ids,
    timeDeltas,
  };
}

describe('bench --profile: self time by bucket', () => {
  it('names the package of a script URL, scoped and nested ones included', () => {
    expect(packageOf(`${app}/node_modules/graphql/execution/execute.js`)).toEqual({
      name: 'graphql',
      path: 'execution/execute.js',
    });
    expect(packageOf(`${app}/node_modules/@apollo/server/dist/cjs/runHttpQuery.js`)).toEqual({
      name: '@apollo/server',
      path: 'dist/cjs/runHttpQuery.js',
    });
    expect(packageOf(`${app}/node_modules/typeorm/node_modules/dayjs/dayjs.min.js`)?.name).toBe('dayjs');
    expect(packageOf(`${app}/dist/src/app.js`)).toBeUndefined();
  });

  it('matches each frame by its URL or V8 node name', () => {
    const cases: [CallFrame, string | undefined][] = [
      [frame('(garbage collector)'), 'GC'],
      [frame('(program)'), 'V8 (program)'],
      [frame('(idle)'), 'idle'],
      [frame('(root)'), undefined],
      [frame('stringify'), undefined],
      [frame('executeField', `${app}/node_modules/graphql/execution/execute.js`), 'graphql execution'],
      [frame('parse', `${app}/node_modules/graphql/language/parser.js`), 'graphql parse + validate'],
      [frame('validate', `${app}/node_modules/graphql/validation/validate.js`), 'graphql parse + validate'],
      [frame('x', `${app}/node_modules/@apollo/server/dist/cjs/ApolloServer.js`), 'Apollo'],
      [frame('x', `${app}/node_modules/type-graphql/build/cjs/resolvers/create.js`), 'type-graphql'],
      [frame('x', `${app}/node_modules/class-validator/cjs/validation/Validator.js`), 'validation'],
      [frame('x', `${app}/node_modules/validator/lib/isEmail.js`), 'validation'],
      [frame('x', `${app}/node_modules/graphql-query-complexity/dist/cjs/QueryComplexity.js`), 'cost analysis'],
      [frame('x', `${app}/node_modules/@escape.tech/graphql-armor-max-depth/dist/index.js`), 'cost analysis'],
      [frame('x', `${app}/node_modules/typeorm/query-builder/SelectQueryBuilder.js`), 'TypeORM'],
      [frame('x', `${app}/node_modules/pg/lib/client.js`), 'pg'],
      [frame('x', `${app}/node_modules/pg-protocol/dist/parser.js`), 'pg'],
      [frame('x', `${app}/node_modules/postgres-date/index.js`), 'pg'],
      [frame('x', `${app}/node_modules/jose/dist/node/cjs/jwt/verify.js`), 'JWT'],
      [frame('x', `${app}/node_modules/winston/lib/winston/logger.js`), 'logging'],
      [frame('x', `${app}/node_modules/winston-transport/modern.js`), 'logging'],
      [frame('x', `${app}/node_modules/logform/json.js`), 'logging'],
      [frame('x', `${app}/node_modules/fastify/lib/reply.js`), 'fastify'],
      [frame('x', `${app}/node_modules/find-my-way/index.js`), 'fastify'],
      [frame('x', `${app}/node_modules/prom-client/lib/histogram.js`), 'metrics'],
      [frame('x', `${app}/dist/src/modules/projects/tasks.service.js`), 'groundwork code'],
      [frame('x', 'node:net'), 'Node core'],
      [frame('x', `${app}/node_modules/dataloader/index.js`), 'other'],
      [frame('x', `${app}/dist/scripts/bench-profile-agent.js`), 'idle'],
    ];
    for (const [input, bucket] of cases)
      expect([input.url || input.functionName, bucketOf(input)]).toEqual([input.url || input.functionName, bucket]);
  });

  it('counts builtins and Node library frames for their nearest caller in a package or the app; idle time is not busy', () => {
    const processTicks = frame('processTicksAndRejections', 'node:internal/process/task_queues');
    const pgQuery = frame('query', `${app}/node_modules/pg/lib/client.js`);
    const apollo = frame('runHttpQuery', `${app}/node_modules/@apollo/server/dist/cjs/runHttpQuery.js`);
    const summary = summarise(
      profileOf([
        { path: [processTicks, pgQuery, frame('Socket._writeGeneric', 'node:net'), frame('writev')], us: 3000 },
        { path: [processTicks, apollo, frame('stringify')], us: 2000 },
        {
          path: [
            frame('onStreamRead', 'node:internal/stream_base_commons'),
            frame('push', 'node:internal/streams/readable'),
          ],
          us: 1000,
        },
        { path: [frame('(garbage collector)')], us: 4000 },
        { path: [frame('(idle)')], us: 10_000 },
        { path: [frame('stringify')], us: 500 },
      ]),
    );
    expect(summary.busyMs).toBe(10.5);
    expect(summary.writesMs).toBe(3);
    expect(Object.fromEntries([...summary.byBucket].filter(([, ms]) => ms > 0))).toEqual({
      pg: 3,
      Apollo: 2,
      'Node core': 1,
      GC: 4,
      other: 0.5,
    });
    expect(summary.other).toEqual([['stringify', 0.5]]);
  });

  it('prints every bucket with how it is matched, shares of busy time and CPU per request', () => {
    const summary = summarise(
      profileOf([
        { path: [frame('(garbage collector)')], us: 1000 },
        { path: [frame('x', `${app}/node_modules/pg/lib/client.js`)], us: 3000 },
      ]),
    );
    const table = bucketTable([{ name: 'q1', summary, requests: 2, cpuMsPerRequest: 1.5 }]);
    for (const bucket of BUCKETS) expect(table).toContain(`| ${bucket.name} |`);
    expect(table).toContain('| GC | 25.0% | V8 node "(garbage collector)" |');
    expect(table).toContain('| pg | 75.0% |');
    expect(table).toContain('| busy, ms per request | 2.00 |');
    expect(table).toContain('| CPU, ms per request | 1.50 |');
  });
});
