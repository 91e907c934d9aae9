// Ids the gateway derives from a request's Idempotency-Key, so a retry sends the very same command:
// if the first send reached Kafka but its answer was lost (a 503, a gateway crash) or the key's record
// expired, the payments service still sees one command id and acts once.
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

/** A refund's id when the caller gives none: a uuid derived from the payment and the key. */
export function refundIdFor(paymentId: string, idempotencyKey: string): string {
  return deriveMessageId(paymentId, `refund:${idempotencyKey}`);
}
