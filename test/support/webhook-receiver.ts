import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
}

/** What the receiver does with one request: answer a status (with headers), or hang past the sender's timeout. */
export type Reply = { status: number; headers?: Record<string, string> } | 'hang';

/**
 * A real HTTP server that records every webhook request with its raw body;
 * `reply` decides each answer (200 unless told otherwise), so a test can
 * script 500s, timeouts, redirects and 410s.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  reply: (request: ReceivedWebhook, attempt: number) => Reply = () => ({ status: 200 });
  private server: Server | undefined;
  private readonly hanging = new Set<() => void>();

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const received = { path: request.url ?? '/', headers: request.headers, body, receivedAt: Date.now() };
        this.received.push(received);
        const attempt = this.received.filter(
          (entry) => entry.headers['webhook-id'] === received.headers['webhook-id'],
        ).length;
        const reply = this.reply(received, attempt);
        if (reply === 'hang') {
          const release = () => response.destroy();
          this.hanging.add(release);
          response.on('close', () => this.hanging.delete(release));
          return;
        }
        response.writeHead(reply.status, reply.headers).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The requests carrying this event id (the webhook-id header). */
  forEvent(eventId: string): ReceivedWebhook[] {
    return this.received.filter((entry) => entry.headers['webhook-id'] === eventId);
  }

  async stop(): Promise<void> {
    for (const release of this.hanging) release();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
