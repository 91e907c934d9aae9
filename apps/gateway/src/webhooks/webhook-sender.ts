// One HTTP attempt of a delivery: POST the payload with its signature, wait at most the timeout,
// report what happened. Redirects are not followed (a 3xx is a failed attempt, as at Stripe). Only
// public addresses are reached unless the gateway allows private targets (webhook-targets.ts).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { isPublicAddress, publicOnlyLookup, webhookUrlRefusal, type PrivateTargets } from './webhook-targets.js';
import { DELIVERY_ID_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeaderValue } from './webhook-signature.js';
import { isSuccessfulStatus } from './webhook-retry-schedule.js';
import type { AttemptResult } from './webhooks.metrics.js';

export interface WebhookRequest {
  url: string;
  secret: string;
  payload: string;
  deliveryId: string;
  eventId: string;
  eventType: string;
}

export interface AttemptOutcome {
  result: AttemptResult;
  statusCode: number | null;
  /** A short, fixed description for the delivery log: never the receiver's body. */
  error: string | null;
  startedAt: Date;
  durationMs: number;
}

export async function sendWebhook(request: WebhookRequest, timeoutMs: number, privateTargets: PrivateTargets = 'refuse'): Promise<AttemptOutcome> {
  const startedAt = new Date();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const url = new URL(request.url);
  const literal = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  // An IP literal is connected to without a lookup: it is checked here instead.
  if (privateTargets === 'refuse' && (isIP(literal) !== 0 ? !isPublicAddress(literal) : webhookUrlRefusal(request.url, privateTargets) !== undefined)) {
    return { result: 'network_error', statusCode: null, error: 'network_error_EBLOCKEDADDRESS', startedAt, durationMs: elapsed() };
  }
  try {
    const status = await post(url, request, timeoutMs, privateTargets);
    const succeeded = isSuccessfulStatus(status);
    return { result: succeeded ? 'succeeded' : 'http_error', statusCode: status, error: succeeded ? null : `http_${status}`, startedAt, durationMs: elapsed() };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { result: timedOut ? 'timeout' : 'network_error', statusCode: null, error: timedOut ? `timeout_${timeoutMs}ms` : networkErrorOf(error), startedAt, durationMs: elapsed() };
  }
}

/** One POST over node:http(s), resolving with the status; redirects are not followed (neither module follows any). */
function post(url: URL, request: WebhookRequest, timeoutMs: number, privateTargets: PrivateTargets): Promise<number> {
  const body = Buffer.from(request.payload, 'utf8');
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const outgoing = send(url, {
      method: 'POST',
      signal: AbortSignal.timeout(timeoutMs),
      ...(privateTargets === 'refuse' ? { lookup: publicOnlyLookup } : {}),
      headers: {
        'content-type': 'application/json',
        'content-length': body.length,
        'user-agent': 'Clearline-Webhooks/1.0',
        [SIGNATURE_HEADER]: signatureHeaderValue(request.secret, Math.floor(Date.now() / 1000), request.payload),
        [DELIVERY_ID_HEADER]: request.deliveryId,
        [EVENT_ID_HEADER]: request.eventId,
        [EVENT_TYPE_HEADER]: request.eventType,
      },
    }, (response) => {
      // The body is not needed; draining it frees the connection.
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The socket's error code (ECONNREFUSED, ENOTFOUND, EBLOCKEDADDRESS ...), never the message. */
function networkErrorOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return `network_error_${typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? code : 'unknown'}`;
}
