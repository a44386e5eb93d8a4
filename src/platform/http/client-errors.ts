import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logging/logger';

/** The JSON error body of every answer the HTTP layer writes itself (GraphQL's shape, so clients parse one). */
export function errorBody(message: string, code: string, requestId: string) {
  return { errors: [{ message, extensions: { code, requestId } }] };
}

/** How often Node looks for requests past their timeout: often enough that a timeout means what it says. */
export function connectionsCheckingInterval(timeoutsMs: number[]): number {
  return Math.max(50, Math.min(1000, Math.floor(Math.min(...timeoutsMs) / 4)));
}

/**
 * Node's 'clientError': a request that timed out (HTTP_REQUEST_TIMEOUT_MS,
 * HTTP_HEADERS_TIMEOUT_MS), headers too large, or bytes that are not HTTP.
 * Answered with 408, 431 or 400 in our error shape, with a request id, and
 * the connection closed; logged as a client's mistake (warn, no stack).
 */
export function clientErrorHandler(logger: Logger, timeouts: { requestMs: number; headersMs: number }) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    // A reset connection is gone already: nothing to answer, nothing the client will read.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, message] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [
            408,
            `The request was not received in time (headers within ${timeouts.headersMs} ms, all of it within ${timeouts.requestMs} ms)`,
          ]
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'The request headers are too large']
          : [400, 'The request is not valid HTTP'];
    const requestId = randomUUID();
    logger.warn('http request refused', {
      requestId,
      status,
      reason: error.code ?? error.message,
      remoteAddress: socket.remoteAddress,
    });
    if (socket.writable) {
      const body = JSON.stringify(errorBody(message, 'BAD_REQUEST', requestId));
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
