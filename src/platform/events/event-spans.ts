import { ROOT_CONTEXT, SpanKind, trace, type Context, type Span } from '@opentelemetry/api';
import { contextFrom, failed, inSpan, linksTo, traceparentOf, tracer, tracingEnabled } from '../telemetry/spans';
import type { DomainEvent } from './event';

/**
 * One producer span per event handed to the stream, child of the span that
 * wrote it; the event then carries the hand-off's context, so its handlers
 * (on any instance) are children of it. Undefined when tracing is off.
 */
export function handOffSpans(events: DomainEvent[], stream: string): { end(error?: unknown): void } | undefined {
  if (!tracingEnabled()) return undefined;
  const spans: Span[] = [];
  for (const event of events) {
    if (!event.traceparent) continue;
    const parent = contextFrom(event.traceparent);
    const span = tracer().startSpan(
      `redis publish ${event.type}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'redis',
          'messaging.operation.type': 'send',
          'messaging.destination.name': stream,
          'groundwork.event.id': event.id,
          'groundwork.event.type': event.type,
        },
      },
      parent,
    );
    event.traceparent = traceparentOf(trace.setSpan(parent, span)) ?? event.traceparent;
    spans.push(span);
  }
  return {
    end(error?: unknown) {
      for (const span of spans) {
        if (error) failed(span, error);
        span.end();
      }
    },
  };
}

/** A consumer's handling of one event: a child of the span that wrote or relayed it, on whichever instance runs it. */
export function inHandlerSpan<T>(consumer: string, event: DomainEvent, work: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return work();
  return inSpan(
    `${consumer} handle ${event.type}`,
    {
      kind: SpanKind.CONSUMER,
      parent: contextFrom(event.traceparent),
      attributes: {
        'messaging.operation.type': 'process',
        'messaging.consumer.group.name': consumer,
        'groundwork.event.id': event.id,
        'groundwork.event.type': event.type,
        ...(event.requestId ? { 'groundwork.request_id': event.requestId } : {}),
      },
    },
    work,
  );
}

/**
 * A consumer's handling of a batch: linked to every event's span, and a
 * child of theirs when they all belong to one trace (a request's events), so
 * that trace shows its handlers; a batch mixing traces starts its own.
 */
export function inBatchSpan<T>(consumer: string, events: DomainEvent[], work: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return work();
  const links = linksTo(events.map((event) => event.traceparent));
  const traces = new Set(links.map((link) => link.context.traceId));
  const parent: Context =
    traces.size === 1 ? contextFrom(events.find((event) => event.traceparent)?.traceparent) : ROOT_CONTEXT;
  return inSpan(
    `${consumer} handle ${events.length} events`,
    {
      kind: SpanKind.CONSUMER,
      parent,
      links,
      attributes: {
        'messaging.operation.type': 'process',
        'messaging.consumer.group.name': consumer,
        'messaging.batch.message_count': events.length,
      },
    },
    work,
  );
}
