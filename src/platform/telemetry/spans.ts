import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
  type SpanOptions,
} from '@opentelemetry/api';

let started = false;

export function markTracingStarted(): void {
  started = true;
}

export function markTracingStopped(): void {
  started = false;
}

/** Whether startTracing ran; hot paths skip every span call without it (the API's no-ops still cost a little). */
export function tracingEnabled(): boolean {
  return started;
}

export function tracer() {
  return trace.getTracer('groundwork');
}

/** The W3C `traceparent` of `ctx` (the active context by default); undefined when tracing is off or no span is in it. */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  if (!started) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** The headers that carry the active span to another service (`traceparent`); none when tracing is off. */
export function traceHeaders(): Record<string, string> {
  if (!started) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** A context whose (remote) parent is the span a stored `traceparent` names; the empty context without one. */
export function contextFrom(traceparent: string | null | undefined): Context {
  return traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent }) : ROOT_CONTEXT;
}

/**
 * The traceparent to store with work done for an event (a webhook delivery):
 * the active span's when it continues the event's trace (or the event has
 * none), else the event's own, so a batch handling events of several traces
 * hands each its own.
 */
export function traceparentFor(eventTraceparent: string | null | undefined): string | undefined {
  if (!started) return undefined;
  const active = trace.getSpanContext(context.active());
  const incoming = trace.getSpanContext(contextFrom(eventTraceparent));
  if (active && (!incoming || incoming.traceId === active.traceId)) return traceparentOf();
  return eventTraceparent ?? undefined;
}

/** Links to the spans stored traceparents name (a batch's events). */
export function linksTo(traceparents: readonly (string | null | undefined)[]): Link[] {
  return traceparents.flatMap((traceparent) => {
    const spanContext = trace.getSpanContext(contextFrom(traceparent));
    return spanContext ? [{ context: spanContext }] : [];
  });
}

/** The active span's ids, for a log line; undefined outside a span or when tracing is off. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  if (!started) return undefined;
  const spanContext = trace.getSpanContext(context.active());
  return spanContext ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : undefined;
}

export interface InSpanOptions extends SpanOptions {
  /** The parent; the active context by default. */
  parent?: Context;
}

/**
 * Runs `work` inside a new span, active for everything it awaits (SQL
 * statements become its children), ended when `work` settles; a throw marks
 * it failed. With tracing off, `work` runs as is and gets no span.
 */
export async function inSpan<T>(
  name: string,
  options: InSpanOptions,
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!started) return work(undefined);
  const { parent = context.active(), ...spanOptions } = options;
  const span = tracer().startSpan(name, spanOptions, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Marks a span failed, with the error as an exception event. */
export function failed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
