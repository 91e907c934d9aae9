// Which events a channel may subscribe to, whose payment each one is about, and the body a receiver
// gets. Pure: no I/O.
import type { ContractEnvelope, ContractType } from '@clearline/contracts';

/**
 * Every event about one payment, on `payments.events` and `settlement.events`. A channel owns the
 * payments it created (the gateway's OwnershipRegistry), so it hears each of these for its own
 * payments. SettlementBatchClosed is left out: a batch is a merchant's, across channels, and no
 * channel owns a merchant.
 */
export const WEBHOOK_EVENT_TYPES = [
  'PaymentRequested',
  'PaymentAuthorizationStarted',
  'PaymentInReview',
  'PaymentDeclined',
  'PaymentAuthorized',
  'PaymentCaptured',
  'PaymentVoided',
  'PaymentExpired',
  'PaymentFailed',
  'PaymentRefunded',
  'RefundFailed',
  'PaymentCommandRejected',
  'PaymentSettled',
  'RefundSettled',
] as const satisfies readonly ContractType[];

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const eventTypes: ReadonlySet<string> = new Set(WEBHOOK_EVENT_TYPES);

export function isWebhookEventType(type: string): type is WebhookEventType {
  return eventTypes.has(type);
}

/** The payment an event is about, or undefined for an event no channel subscribes to. */
export function paymentIdOfWebhookEvent(envelope: ContractEnvelope): string | undefined {
  if (!isWebhookEventType(envelope.type)) return undefined;
  // Every webhook event type carries the payment's id (asserted over the contracts in the unit test).
  return (envelope.data as { paymentId: string }).paymentId;
}

/** What a receiver gets (Stripe's shape: id, type, time, data); the same bytes on every attempt. */
export function webhookPayloadOf(envelope: ContractEnvelope): string {
  return JSON.stringify({
    id: envelope.id,
    type: envelope.type,
    schemaVersion: envelope.schemaVersion,
    occurredAt: envelope.metadata.occurredAt,
    correlationId: envelope.metadata.correlationId,
    data: envelope.data,
  });
}

export interface SubscriptionFilter {
  subscriptionId: string;
  client: string;
  eventTypes: readonly string[];
}

/** The subscriptions that get a delivery of an event of `eventType` owned by `owner`. */
export function matchingSubscriptions<Subscription extends SubscriptionFilter>(
  subscriptions: readonly Subscription[],
  owner: string,
  eventType: string,
): Subscription[] {
  return subscriptions.filter((subscription) => subscription.client === owner && subscription.eventTypes.includes(eventType));
}
