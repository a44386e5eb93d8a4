import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { contextFrom, inSpan, tracingEnabled } from '../../platform/telemetry/spans';
import type { DueDelivery } from './webhook-deliveries.repository';
import type { SendResult } from './webhook-sender';

/**
 * One span per delivery attempt, in the trace of the event it delivers
 * (however long after, on whichever instance); the POST inside carries it
 * as `traceparent`. Without tracing, `send` runs as is.
 */
export function inAttemptSpan(
  delivery: DueDelivery,
  attempt: number,
  send: () => Promise<SendResult>,
): Promise<SendResult> {
  if (!tracingEnabled()) return send();
  return inSpan(
    'webhook delivery attempt',
    {
      kind: SpanKind.CLIENT,
      parent: contextFrom(delivery.traceparent),
      attributes: {
        'http.request.method': 'POST',
        'server.address': hostOf(delivery.url),
        'groundwork.webhook.delivery_id': delivery.id,
        'groundwork.event.id': delivery.eventId,
        'groundwork.webhook.attempt': attempt,
      },
    },
    async (span) => {
      const result = await send();
      if (result.status !== undefined) span?.setAttribute('http.response.status_code', result.status);
      if (result.error) span?.setStatus({ code: SpanStatusCode.ERROR, message: result.error });
      return result;
    },
  );
}

/** The host only: a receiver's path or query may carry a token of its own. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid';
  }
}
