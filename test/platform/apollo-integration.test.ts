// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { ApolloServer } from '@apollo/server';
import { defineIntegrationTestSuite } from '@apollo/server-integration-testsuite';
import { fastifyApolloDrainPlugin, fastifyApolloHandler } from '@as-integrations/fastify';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config/config';
import { graphqlFrontDoor } from '../../src/platform/http/front-door';
import {
  corsHeadersWithoutOrigin,
  createFastify,
  jsonApiSecurityHeaders,
  type FastifyOptions,
} from '../../src/platform/http/server';
import { createLogger } from '../../src/platform/logging/logger';
import { AppMetrics } from '../../src/platform/metrics/metrics';
import { MemoryTransport } from '../support/memory-transport';

/*
 * Apollo's own HTTP test suite (@apollo/server-integration-testsuite, the
 * version of @apollo/server), run against our fastify instance: its hooks
 * (request ids, security headers, CORS, error bodies, body limit, metrics)
 * under the @as-integrations/fastify handler, with each server the suite builds.
 */
/*
 * The same suite with the front door (src/platform/http/front-door.ts) in
 * front of that fastify instance, as the app runs: POST requests with a JSON
 * body of a declared length are answered by the door, everything else by
 * fastify's route.
 */
for (const door of ['fastify only', 'front door first'] as const) {
  describe(door, () => {
    defineIntegrationTestSuite(
      async (serverOptions, testOptions) => {
        const { config } = loadConfig({ NODE_ENV: 'test', CORS_ORIGINS: '*', JWT_SECRET: 'x'.repeat(32) });
        const logger = createLogger({ level: 'error', format: 'json', transports: [new MemoryTransport()] });
        const metrics = new AppMetrics();
        const frontDoor: NonNullable<FastifyOptions['frontDoor']> = {};
        const fastify = await createFastify(config, logger, metrics, {
          graphqlPath: '/',
          requestIdInGraphQLErrors: false,
          frontDoor,
        });
        const server = new ApolloServer({
          ...serverOptions,
          plugins: [...(serverOptions.plugins ?? []), fastifyApolloDrainPlugin(fastify)],
        });
        await server.start();
        const context = testOptions?.context ?? (async () => ({}));
        fastify.route({
          method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'],
          url: '/',
          handler: fastifyApolloHandler(server, { context }),
        });
        if (door === 'front door first')
          frontDoor.handle = graphqlFrontDoor({
            apollo: server,
            path: '/',
            logger,
            metrics,
            bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES,
            headers: { ...jsonApiSecurityHeaders(config), ...corsHeadersWithoutOrigin(config.corsOrigins) },
            corsEnabled: true,
            open: () => true,
            requestIdInErrors: false,
            around: (_request, _requestId, work) => work(),
            context: () => context(),
          });
        await fastify.listen({ host: '127.0.0.1', port: 0 });
        return {
          server,
          url: `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`,
          extraCleanup: () => fastify.close(),
        };
      },
      { noIncrementalDelivery: true },
    );
  });
}
