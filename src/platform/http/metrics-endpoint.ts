import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config';
import type { AppMetrics } from '../metrics/metrics';

/**
 * Where GET /metrics is served. It names every operation, its error rate and
 * the event backlog, so in production it is off the public port unless a
 * bearer token guards it: on its own listener (METRICS_PORT, on the private
 * METRICS_HOST), on the public port behind METRICS_TOKEN, or nowhere.
 */
export type MetricsExposure =
  { where: 'own-port'; host: string; port: number } | { where: 'public-port' } | { where: 'nowhere' };

export function metricsExposure(config: Config): MetricsExposure {
  if (config.METRICS_PORT !== undefined)
    return { where: 'own-port', host: config.METRICS_HOST, port: config.METRICS_PORT };
  if (config.isProduction && config.METRICS_TOKEN === undefined) return { where: 'nowhere' };
  return { where: 'public-port' };
}

/** Whether an Authorization header carries METRICS_TOKEN (always, when none is set); compared in constant time. */
export function metricsAuthorizer(token: string | undefined): (authorization: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (authorization) => {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    return presented !== undefined && timingSafeEqual(digest(presented), expected);
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** GET /metrics on the public port, 401 without the token when one is set. */
export function servePublicMetrics(
  fastify: FastifyInstance,
  metrics: AppMetrics,
  authorized: (authorization: string | undefined) => boolean,
): void {
  fastify.get('/metrics', async (request, reply) => {
    if (!authorized(request.headers.authorization)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({
          errors: [
            { message: 'A bearer token is required', extensions: { code: 'UNAUTHENTICATED', requestId: request.id } },
          ],
        });
    }
    return reply.type(metrics.registry.contentType).send(await metrics.render());
  });
}
