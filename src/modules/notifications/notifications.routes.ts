import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../platform/clock';
import { isDatabaseUnavailable } from '../../platform/database/errors';
import type { Logger } from '../../platform/logging/logger';
import type { NotificationPreferencesService } from './notification-preferences.service';
import type { UnsubscribeTokens } from './unsubscribe-tokens';
import { escapeHtml } from '../../platform/html';

export const UNSUBSCRIBE_PATH = '/notifications/unsubscribe';

function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(
      `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
        `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    );
}

const tokenOf = (request: FastifyRequest) => (request.query as Record<string, unknown>).token;

/**
 * The unsubscribe link of notification mail, for people who are not logged
 * in: GET shows a confirmation form (link scanners fetch links, and must not
 * unsubscribe anyone); POST unsubscribes (the form, and RFC 8058 one-click,
 * which mail clients send as `List-Unsubscribe=One-Click`). A bad, altered or
 * expired token is a 400 page; a database outage a 503 one.
 */
export function unsubscribeRoutes(
  preferences: NotificationPreferencesService,
  tokens: UnsubscribeTokens,
  clock: Clock,
  logger: Logger,
) {
  return async (fastify: FastifyInstance): Promise<void> => {
    // Mail clients post a form; its only field is known, so the body is read as text and not used.
    fastify.addContentTypeParser(
      ['application/x-www-form-urlencoded', 'multipart/form-data'],
      { parseAs: 'string', bodyLimit: 4096 },
      (_request, body, done) => done(null, body),
    );

    const refusal = (request: FastifyRequest, reply: FastifyReply, reason: 'invalid' | 'expired'): FastifyReply =>
      reason === 'expired'
        ? page(
            reply,
            400,
            'Link expired',
            `<p>This unsubscribe link has expired. Choose which notifications are mailed to you in your settings.</p>` +
              `<p>Request id: ${escapeHtml(request.id)}</p>`,
          )
        : page(
            reply,
            400,
            'Invalid link',
            `<p>This unsubscribe link is not valid: it may have been cut short or altered. Copy the whole link from the mail, or change your settings.</p>` +
              `<p>Request id: ${escapeHtml(request.id)}</p>`,
          );

    fastify.get(UNSUBSCRIBE_PATH, async (request, reply) => {
      const check = tokens.check(tokenOf(request), clock.now());
      if (!check.ok) return refusal(request, reply, check.reason);
      // Relative to this page, so the form works behind a proxy that mounts the API under a path.
      const action = `?token=${encodeURIComponent(String(tokenOf(request)))}`;
      return page(
        reply,
        200,
        'Stop notification mail?',
        `<p>You will still see every notification in the app.</p>` +
          `<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click">` +
          `<button type="submit">Unsubscribe</button></form>`,
      );
    });

    fastify.post(UNSUBSCRIBE_PATH, async (request, reply) => {
      const check = tokens.check(tokenOf(request), clock.now());
      if (!check.ok) return refusal(request, reply, check.reason);
      try {
        await preferences.unsubscribe(check.userId);
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        logger.warn('unsubscribe failed: database unavailable', { requestId: request.id });
        return page(reply.header('retry-after', '5'), 503, 'Try again later', '<p>Nothing was changed.</p>');
      }
      logger.info('unsubscribed from notification mail', { requestId: request.id, userId: check.userId });
      return page(
        reply,
        200,
        'Unsubscribed',
        '<p>No more notification mail will be sent to you. You can turn it back on, type by type, in your settings.</p>',
      );
    });
  };
}
