// @database-independent: no database, no Redis (CI runs it once, on the PGlite pass: jest.config.js).
import { randomUUID } from 'node:crypto';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { DomainEvent } from '../../src/platform/events/event';
import { inBatchSpan, inHandlerSpan } from '../../src/platform/events/event-spans';
import { createLogger } from '../../src/platform/logging/logger';
import { inSpan, traceparentFor, traceparentOf, tracingEnabled } from '../../src/platform/telemetry/spans';
import { startTracing, type Tracing } from '../../src/platform/telemetry/tracing';
import { MemoryTransport } from '../support/memory-transport';

/** The platform's trace helpers against the real SDK, exporting into memory (no SQL here: see traces.test.ts). */
const exporter = new InMemorySpanExporter();
let tracing: Tracing;

beforeAll(() => {
  tracing = startTracing({ endpoint: 'http://127.0.0.1:9', serviceName: 'trace-context-test', exporter });
});

afterAll(async () => {
  await tracing.shutdown();
});

beforeEach(() => exporter.reset());

async function finished(): Promise<ReadableSpan[]> {
  await tracing.forceFlush();
  return exporter.getFinishedSpans();
}

/** An event as a request's outbox write leaves it: carrying that span's traceparent. */
async function eventOfANewTrace(): Promise<DomainEvent> {
  return inSpan('request', {}, async () => ({
    id: randomUUID(),
    type: 'comment.added',
    occurredAt: new Date(),
    organizationId: null,
    actorId: null,
    requestId: `req-${randomUUID()}`,
    subject: { type: 'comment', id: randomUUID() },
    data: {},
    traceparent: traceparentOf(),
  }));
}

const idsOf = (traceparent: string | undefined) => {
  const [, traceId, spanId] = traceparent!.split('-');
  return { traceId, spanId };
};

describe('trace context', () => {
  it('puts the active span ids on log lines written inside it, and none outside', async () => {
    const logs = new MemoryTransport();
    const logger = createLogger({ level: 'info', format: 'json', transports: [logs] }).child({ requestId: 'r-1' });
    logger.info('before');
    const ids = await inSpan('work', {}, async (span) => {
      logger.info('inside');
      await new Promise((resolve) => setImmediate(resolve));
      logger.child({ consumer: 'audit' }).warn('inside, later, from a child');
      return span!.spanContext();
    });
    logger.info('after');
    expect(
      logs.entries.map(({ message, requestId, trace_id, span_id }) => ({ message, requestId, trace_id, span_id })),
    ).toEqual([
      { message: 'before', requestId: 'r-1', trace_id: undefined, span_id: undefined },
      { message: 'inside', requestId: 'r-1', trace_id: ids.traceId, span_id: ids.spanId },
      { message: 'inside, later, from a child', requestId: 'r-1', trace_id: ids.traceId, span_id: ids.spanId },
      { message: 'after', requestId: 'r-1', trace_id: undefined, span_id: undefined },
    ]);
  });

  it("runs a handler as a consumer span, child of the event's span", async () => {
    const event = await eventOfANewTrace();
    await inHandlerSpan('audit', event, async () => undefined);
    const handler = (await finished()).find((span) => span.name === 'audit handle comment.added')!;
    expect(handler.kind).toBe(SpanKind.CONSUMER);
    expect(handler.spanContext().traceId).toBe(idsOf(event.traceparent).traceId);
    expect(handler.parentSpanContext?.spanId).toBe(idsOf(event.traceparent).spanId);
    expect(handler.attributes).toMatchObject({
      'groundwork.event.id': event.id,
      'groundwork.request_id': event.requestId,
    });
  });

  it('makes a batch of one trace a child of it, and a batch mixing traces a root linked to each event', async () => {
    const first = await eventOfANewTrace();
    const sameTrace = { ...first, id: randomUUID() };
    const other = await eventOfANewTrace();

    const stored: (string | undefined)[] = [];
    await inBatchSpan('webhooks', [first, sameTrace], async () => {
      stored.push(traceparentFor(first.traceparent));
    });
    await inBatchSpan('webhooks', [first, other], async () => {
      stored.push(traceparentFor(first.traceparent), traceparentFor(other.traceparent));
    });
    const [oneTrace, mixed] = (await finished()).filter((span) => span.name === 'webhooks handle 2 events');

    expect(oneTrace.spanContext().traceId).toBe(idsOf(first.traceparent).traceId);
    expect(oneTrace.parentSpanContext?.spanId).toBe(idsOf(first.traceparent).spanId);
    expect(oneTrace.links).toHaveLength(2);
    // Work done for an event inside the batch continues the batch's span when it is in the event's trace...
    expect(stored[0]).toBe(`00-${oneTrace.spanContext().traceId}-${oneTrace.spanContext().spanId}-01`);

    expect(mixed.parentSpanContext).toBeUndefined();
    expect(mixed.links.map((link) => link.context.traceId).sort()).toEqual(
      [idsOf(first.traceparent).traceId, idsOf(other.traceparent).traceId].sort(),
    );
    // ... and keeps each event's own trace when the batch is a trace of its own.
    expect(stored.slice(1)).toEqual([first.traceparent, other.traceparent]);
  });

  it('marks a span failed when its work throws, and rethrows', async () => {
    await expect(
      inSpan('failing', {}, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const [span] = (await finished()).filter((candidate) => candidate.name === 'failing');
    expect(span.status).toMatchObject({ code: 2, message: 'boom' });
  });

  it('goes back to the no-op API once shut down', async () => {
    expect(tracingEnabled()).toBe(true);
    await tracing.shutdown();
    expect(tracingEnabled()).toBe(false);
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
    expect(await inSpan('no-op', {}, async (span) => span)).toBeUndefined();
    expect(traceparentOf()).toBeUndefined();
    tracing = startTracing({
      endpoint: 'http://127.0.0.1:9',
      serviceName: 'again',
      exporter: new InMemorySpanExporter(),
    });
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(true);
  });
});
