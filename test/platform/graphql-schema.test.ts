// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import 'reflect-metadata';
import { graphql } from 'graphql';
import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { loadConfig } from '../../src/config/config';
import { ANONYMOUS, Loaders, type RequestContext, type Viewer } from '../../src/platform/graphql/context';
import { classifyError, codeOf } from '../../src/platform/graphql/format-error';
import { buildGraphQLSchema } from '../../src/platform/graphql/schema';
import { createLogger } from '../../src/platform/logging/logger';
import { MemoryTransport } from '../support/memory-transport';

@Resolver()
class ProbeResolver {
  constructor(private readonly greeting: string) {}

  @Query(() => String)
  open(): string {
    return this.greeting;
  }

  @Authorized()
  @Query(() => String)
  signedInOnly(@Ctx() ctx: RequestContext): string {
    return ctx.viewer.kind === 'user' ? ctx.viewer.userId : 'impossible';
  }
}

function contextFor(viewer: Viewer): RequestContext {
  return {
    requestId: 'probe',
    logger: createLogger({ level: 'error', format: 'json', transports: [new MemoryTransport()] }),
    config: loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32) }).config,
    viewer,
    loaders: new Loaders(viewer),
    ip: '127.0.0.1',
  };
}

describe('buildGraphQLSchema', () => {
  it('resolves through the instances the modules built', async () => {
    const schema = await buildGraphQLSchema([ProbeResolver], [new ProbeResolver('hello from the instance')]);
    const result = await graphql({ schema, source: '{ open }', contextValue: contextFor(ANONYMOUS) });
    expect(result).toEqual({ data: { open: 'hello from the instance' } });
  });

  it('answers an @Authorized field with UNAUTHENTICATED for an anonymous viewer', async () => {
    const schema = await buildGraphQLSchema([ProbeResolver], [new ProbeResolver('hi')]);
    const result = await graphql({ schema, source: '{ signedInOnly }', contextValue: contextFor(ANONYMOUS) });
    expect(result.data).toBeNull();
    expect(codeOf(classifyError(result.errors![0]))).toBe('UNAUTHENTICATED');
  });

  it('serves an @Authorized field to a signed-in viewer', async () => {
    const schema = await buildGraphQLSchema([ProbeResolver], [new ProbeResolver('hi')]);
    const result = await graphql({
      schema,
      source: '{ signedInOnly }',
      contextValue: contextFor({ kind: 'user', userId: 'u-1' }),
    });
    expect(result).toEqual({ data: { signedInOnly: 'u-1' } });
  });

  it('refuses to build when a resolver class has no instance', async () => {
    await expect(buildGraphQLSchema([ProbeResolver], [])).rejects.toThrow(
      'No instance was built for resolver ProbeResolver',
    );
  });
});
