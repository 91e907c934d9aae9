import type { ContractEnvelope, WireMoney } from '@clearline/contracts';
import { ProblemException } from '@clearline/service-runtime';

/**
 * What a channel hears when one of its payments changes (long-poll, server-sent events, WebSocket).
 * Built from the payments service's integration event alone, so it never holds more than that event
 * published: no card data (the events carry none), no payer or merchant details, amounts as integer
 * minor-unit strings with their currency.
 */
export interface PaymentUpdate {
  /** The event's message id: a redelivered event (the outbox publishes at least once) has the same one. */
  eventId: string;
  paymentId: string;
  /** The integration event's type: PaymentAuthorized, PaymentCaptured, PaymentRefunded ... */
  event: PaymentUpdateEvent;
  /**
   * The payment's status after the event, when the event alone decides it; null when it does not
   * (a refund: refunded or partially refunded depends on the captured amount, read the payment).
   */
  status: string | null;
  /** The amount the event is about (requested, authorized, captured, released, refunded), if any. */
  amount: WireMoney | null;
  /** PaymentRefunded: every refund of the payment so far, this one included. */
  refundedTotal?: WireMoney;
  refundId?: string;
  /** Why the payment was declined, expired or failed, or why a refund or command was refused. */
  reasonCode?: string;
  /** PaymentDeclined: risk, review, funds or connector. */
  declineStage?: string;
  /** PaymentCommandRejected: the refused command's type and id. */
  commandType?: string;
  commandId?: string;
  /** When the payments service decided the event (ISO 8601). */
  occurredAt: string;
  /**
   * The event's offset in its payments.events partition, as a decimal string. A payment's events all
   * share one partition (the key is the payment id), so its versions only grow: give the last one
   * seen as `after` to a long-poll, and an update already heard is never answered again.
   */
  version: string;
}

/** The payments.events types a channel hears; the topic's other types (if any come) are not news to a channel. */
export const PAYMENT_UPDATE_EVENTS = [
  'PaymentRequested', 'PaymentAuthorizationStarted', 'PaymentInReview', 'PaymentDeclined', 'PaymentAuthorized', 'PaymentCaptured',
  'PaymentVoided', 'PaymentExpired', 'PaymentFailed', 'PaymentRefunded', 'RefundFailed', 'PaymentCommandRejected',
] as const;
export type PaymentUpdateEvent = (typeof PAYMENT_UPDATE_EVENTS)[number];

const UPDATE_EVENTS: ReadonlySet<string> = new Set(PAYMENT_UPDATE_EVENTS);

export function isPaymentUpdateEnvelope(envelope: ContractEnvelope): envelope is ContractEnvelope<PaymentUpdateEvent> {
  return UPDATE_EVENTS.has(envelope.type);
}

/** Where the event sits in Kafka: the update's version, and the server-sent event id. */
export interface EventPosition {
  partition: number;
  offset: string;
}

/** The update a payments.events envelope means to the channel; pure (every field comes from the envelope). */
export function paymentUpdateOf(envelope: ContractEnvelope<PaymentUpdateEvent>, position: EventPosition): PaymentUpdate {
  const common = { eventId: envelope.id, paymentId: envelope.data.paymentId, event: envelope.type, occurredAt: envelope.metadata.occurredAt, version: position.offset };
  switch (envelope.type) {
    case 'PaymentRequested':
      return { ...common, status: 'requested', amount: money(envelope.data.amount) };
    case 'PaymentAuthorizationStarted':
      return { ...common, status: 'authorizing', amount: null };
    case 'PaymentInReview':
      return { ...common, status: 'in_review', amount: null };
    case 'PaymentDeclined':
      return { ...common, status: 'declined', amount: null, declineStage: envelope.data.stage, reasonCode: envelope.data.reasonCode };
    case 'PaymentAuthorized':
      return { ...common, status: 'authorized', amount: money(envelope.data.amount) };
    case 'PaymentCaptured':
      return { ...common, status: 'captured', amount: money(envelope.data.amount) };
    case 'PaymentVoided':
      return { ...common, status: 'voided', amount: money(envelope.data.releasedAmount) };
    case 'PaymentExpired':
      return { ...common, status: 'expired', amount: null, reasonCode: envelope.data.reasonCode };
    case 'PaymentFailed':
      return { ...common, status: 'failed', amount: null, reasonCode: envelope.data.reasonCode };
    case 'PaymentRefunded':
      return { ...common, status: null, amount: money(envelope.data.amount), refundedTotal: money(envelope.data.refundedTotal), refundId: envelope.data.refundId };
    case 'RefundFailed':
      return { ...common, status: null, amount: money(envelope.data.amount), refundId: envelope.data.refundId, reasonCode: envelope.data.reasonCode };
    case 'PaymentCommandRejected':
      // The payment did not change: its status is the one the refusal names.
      return { ...common, status: envelope.data.status, amount: null, reasonCode: envelope.data.reasonCode, commandType: envelope.data.commandType, commandId: envelope.data.commandId };
    default: {
      const unreachable: never = envelope;
      throw new Error(`unreachable: no update for ${(unreachable as ContractEnvelope).type}`);
    }
  }
}

/** A copy with only the two wire fields: nothing else an event's money object might grow is passed on. */
function money(amount: WireMoney): WireMoney {
  return { amountMinor: amount.amountMinor, currency: amount.currency };
}

/** The id of an update as a server-sent event: its Kafka partition and offset (`3-1842`). */
export function streamIdOf(position: EventPosition): string {
  return `${position.partition}-${position.offset}`;
}

/** The longest a long-poll may wait: below common proxy and load-balancer idle timeouts (60 s). */
export const MAX_WAIT_MS = 30_000;
const WAIT_PATTERN = /^([0-9]{1,6})(ms|s)?$/;

/**
 * The `wait` query parameter of a long-poll: `5s`, `1500ms`, or plain seconds (`5`), at most 30 s.
 * Returns the milliseconds, or undefined when the text is not a valid wait.
 */
export function parseWaitMs(text: string): number | undefined {
  const match = WAIT_PATTERN.exec(text);
  if (match === null) return undefined;
  const waitMs = match[2] === 'ms' ? Number(match[1]) : Number(match[1]) * 1_000;
  return waitMs <= MAX_WAIT_MS ? waitMs : undefined;
}

/** The `after` query parameter: a version (Kafka offset) as a decimal string, at most 19 digits. */
export function parseVersion(text: string): bigint | undefined {
  return /^[0-9]{1,19}$/.test(text) ? BigInt(text) : undefined;
}

/** Says how a long-poll ended: `changed` (the body is the update) or `timeout` (the body is the read model's answer). */
export const PAYMENT_WAIT_HEADER = 'payment-wait';

/**
 * A long-poll's query (`wait`, `after`) checked at the edge: a 400 problem naming the parameter, never
 * quoting it. `after` alone waits no time: it asks only whether a newer update is already here.
 */
export function longPollOf(wait: string | undefined, after: string | undefined): { timeoutMs: number; after?: bigint } {
  const timeoutMs = wait === undefined ? 0 : parseWaitMs(wait);
  if (timeoutMs === undefined) {
    throw new ProblemException(400, 'invalid-wait', 'Invalid wait', `wait is how long to wait for a change: 5s, 1500ms or 5 (seconds), at most ${MAX_WAIT_MS / 1_000} s.`);
  }
  if (after === undefined) return { timeoutMs };
  const version = parseVersion(after);
  if (version === undefined) throw new ProblemException(400, 'invalid-after', 'Invalid after', 'after is the version of an update (its decimal `version`).');
  return { timeoutMs, after: version };
}
