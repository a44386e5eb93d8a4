import { hostname } from 'node:os';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_INSTANCE_ID, ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { markTracingStarted, markTracingStopped } from './spans';

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: `/v1/traces` is appended. */
  endpoint: string;
  serviceName: string;
  /** Instead of the OTLP exporter (a test's in-memory one). */
  exporter?: SpanExporter;
}

export interface Tracing {
  /** Exports the spans ended so far. */
  forceFlush(): Promise<void>;
  /** Exports what is buffered and unregisters everything; spans after this are the API's no-ops. */
  shutdown(): Promise<void>;
}

/**
 * Registers the OpenTelemetry SDK: the async-local context manager, the W3C
 * trace-context propagator, a tracer provider exporting in batches over
 * OTLP/HTTP, and the pg instrumentation (one span per SQL statement, only
 * inside a span of ours). Call it before anything loads `pg` (the
 * instrumentation patches it as it is required: src/main.ts loads the app
 * after this). Not called when OTEL_EXPORTER_OTLP_ENDPOINT is unset: then the
 * API's no-op tracer stays in place and every helper of spans.ts returns at
 * once.
 */
export function startTracing(options: TracingOptions): Tracing {
  const exporter =
    options.exporter ?? new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: process.env.npm_package_version ?? 'unknown',
      // Which instance ran a span: a trace crosses them.
      [ATTR_SERVICE_INSTANCE_ID]: `${hostname()}:${process.pid}`,
    }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000 })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      // Only statements inside a request, handler or delivery: the relays' and the sender's polls would be noise.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    ],
  });
  markTracingStarted();
  return {
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      markTracingStopped();
      unregister();
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
