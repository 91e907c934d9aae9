// Webhook signatures, as Stripe signs them: `Clearline-Signature: t=<unix seconds>,v1=<hex>`, where
// v1 is HMAC-SHA256 under the subscription's secret of `<t>.<body>`. The timestamp is signed, so a
// receiver that refuses old ones (five minutes by default) cannot be fed a recorded delivery again.
// Pure: the time comes in as an argument.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'clearline-signature';
export const DELIVERY_ID_HEADER = 'clearline-delivery-id';
export const EVENT_ID_HEADER = 'clearline-event-id';
export const EVENT_TYPE_HEADER = 'clearline-event-type';
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
}

/** The header value for `body` sent at `timestampSeconds`. */
export function signatureHeaderValue(secret: string, timestampSeconds: number, body: string): string {
  return `t=${timestampSeconds},v1=${webhookSignature(secret, timestampSeconds, body)}`;
}

export type SignatureCheck =
  | { valid: true; timestampSeconds: number }
  | { valid: false; reason: 'malformed' | 'stale' | 'mismatch' };

/**
 * A receiver's check: the header parses, its timestamp is within `toleranceSeconds` of `nowSeconds`,
 * and one of its v1 signatures (several during a secret rotation) matches, compared in constant time.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
): SignatureCheck {
  const parts = (header ?? '').split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]);
  const timestampText = parts.find(([name]) => name === 't')?.[1];
  const signatures = parts.filter(([name, value]) => name === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value)).map(([, value]) => value!);
  if (timestampText === undefined || !/^[0-9]{1,12}$/.test(timestampText) || signatures.length === 0) return { valid: false, reason: 'malformed' };
  const timestampSeconds = Number(timestampText);
  if (Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) return { valid: false, reason: 'stale' };
  const expected = Buffer.from(webhookSignature(secret, timestampSeconds, body), 'hex');
  const matches = signatures.some((signature) => timingSafeEqual(Buffer.from(signature, 'hex'), expected));
  return matches ? { valid: true, timestampSeconds } : { valid: false, reason: 'mismatch' };
}
