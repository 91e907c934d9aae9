// One HTTP attempt of a delivery: POST the payload with its signature, wait at most the timeout,
// report what happened. Redirects are not followed (a 3xx is a failed attempt, as at Stripe).
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

export async function sendWebhook(request: WebhookRequest, timeoutMs: number): Promise<AttemptOutcome> {
  const startedAt = new Date();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Clearline-Webhooks/1.0',
        [SIGNATURE_HEADER]: signatureHeaderValue(request.secret, Math.floor(Date.now() / 1000), request.payload),
        [DELIVERY_ID_HEADER]: request.deliveryId,
        [EVENT_ID_HEADER]: request.eventId,
        [EVENT_TYPE_HEADER]: request.eventType,
      },
      body: request.payload,
    });
    // The body is not needed; dropping it frees the connection.
    await response.body?.cancel().catch(() => undefined);
    const succeeded = isSuccessfulStatus(response.status);
    return { result: succeeded ? 'succeeded' : 'http_error', statusCode: response.status, error: succeeded ? null : `http_${response.status}`, startedAt, durationMs: elapsed() };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return { result: timedOut ? 'timeout' : 'network_error', statusCode: null, error: timedOut ? `timeout_${timeoutMs}ms` : networkErrorOf(error), startedAt, durationMs: elapsed() };
  }
}

/** fetch's TypeError carries the socket's error code as its cause (ECONNREFUSED, ENOTFOUND ...). */
function networkErrorOf(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' && /^[A-Z_]{2,40}$/.test(cause.code) ? cause.code : 'unknown';
  return `network_error_${code}`;
}
