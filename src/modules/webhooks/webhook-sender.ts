import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { ForbiddenDestinationError, guardedLookup, isForbiddenAddress } from './address-guard';

export interface SendResult {
  /** The receiver's HTTP status; absent when no answer came (refused, timed out, forbidden). */
  status?: number;
  /** Why it failed, for `lastError`; absent on a 2xx. */
  error?: string;
  /** From a Retry-After header, in seconds. */
  retryAfterSeconds?: number;
}

export interface SendOptions {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
}

/** One POST: no redirects followed, bounded in time, and never to a private address unless allowed. */
export function sendWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: SendOptions,
): Promise<SendResult> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isForbiddenAddress(host) && !options.allowPrivateNetworks) {
    return Promise.resolve({ error: new ForbiddenDestinationError(host, host).message });
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const request = send(
      target,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'groundwork-webhooks',
          ...headers,
        },
        lookup: guardedLookup(options.allowPrivateNetworks),
        signal: AbortSignal.timeout(options.timeoutMs),
      },
      (response: IncomingMessage) => {
        response.resume();
        const status = response.statusCode ?? 0;
        const retryAfter = Number(response.headers['retry-after']);
        const result: SendResult = {
          status,
          retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
        };
        if (status >= 300 && status < 400)
          result.error = `redirect to ${response.headers.location ?? '(no location)'} not followed`;
        else if (status < 200 || status >= 300) result.error = `HTTP ${status}`;
        response.on('end', () => resolve(result));
        response.on('error', () => resolve(result));
      },
    );
    request.on('error', (error: Error) => {
      resolve({
        error:
          error.name === 'AbortError' || error.name === 'TimeoutError'
            ? `no answer within ${options.timeoutMs} ms`
            : error.message,
      });
    });
    request.end(body);
  });
}
