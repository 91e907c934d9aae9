// Ids the gateway derives from a request's Idempotency-Key, so a retry sends the very same command:
// if the first send reached Kafka but its answer was lost (a 503, a gateway crash) or the key's record
// expired, the payments service and the ledger still see one command id and act once.
import { deriveMessageId } from '@clearline/contracts';
import { createHash } from 'node:crypto';

/**
 * The command id of a payment lifecycle command: `gw-` and 43 base64url characters of
 * SHA-256(payment, command type, key). It fits the contracts' identifier (64 characters), which a
 * 255-character key would not, and differs per payment and command, as the edge's records do.
 */
export function commandIdFor(paymentId: string, commandType: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(paymentId).update('\u0000').update(commandType).update('\u0000').update(idempotencyKey).digest('base64url');
  return `gw-${digest}`;
}

/**
 * What a request under an Idempotency-Key is known by: the client, the key and the SHA-256 of the
 * request (card numbers fingerprinted, CVV left out; idempotency.interceptor.ts). The same key with
 * another body is another request, even once the key's record has expired.
 */
export interface IdempotentRequest {
  client: string;
  key: string;
  requestHash: string;
}

/**
 * A new payment's id: a uuid derived from the request. A retry that runs again (its first gateway
 * died after sending RequestPayment, or Kafka took the command but the answer was lost) names the
 * same payment, and its RequestPayment carries the same message id, which the payments service's
 * inbox drops: one payment, however often the request is run.
 */
export function paymentIdFor(request: IdempotentRequest): string {
  return deriveMessageId(`${request.client}\u0000${request.key}`, `payment:${request.requestHash}`);
}

/** A transfer's id when the caller gives none: derived from the request, as a payment's is. */
export function transferIdFor(request: IdempotentRequest): string {
  return deriveMessageId(`${request.client}\u0000${request.key}`, `transfer:${request.requestHash}`);
}

/** A refund's id when the caller gives none: a uuid derived from the payment and the key. */
export function refundIdFor(paymentId: string, idempotencyKey: string): string {
  return deriveMessageId(paymentId, `refund:${idempotencyKey}`);
}
