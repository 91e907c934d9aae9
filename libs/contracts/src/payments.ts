import { defineContract } from './contract.js';
import {
  enumSchema, identifierSchema, objectSchema, positiveMoneySchema, timestampSchema, uuidSchema,
  type WireMoney,
} from './schema.js';
import { REVIEW_TIMEOUT_OUTCOMES, type ReviewTimeoutOutcome } from './risk.js';
import { PAYMENT_SETTLED_V2_SCHEMA_VERSION, paymentSettledV2Schema, type PaymentSettledV2Data } from './settlement.js';
import { Topics } from './topics.js';

export const PAYMENT_METHODS = ['wallet', 'card', 'e_wallet', 'mobile_money'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export const PAYMENT_CHANNELS = ['card_acquiring', 'e_wallet', 'mobile', 'partner_bank'] as const;
export type PaymentChannel = (typeof PAYMENT_CHANNELS)[number];

/** What the channel knows about the payer's device; risk uses it, nothing here identifies a card. */
export interface PaymentRiskContext {
  ipAddress?: string;
  deviceId?: string;
}

const riskContextSchema = objectSchema(
  { ipAddress: { type: 'string', maxLength: 45, pattern: '^[0-9A-Fa-f:.]{2,45}$' }, deviceId: identifierSchema },
  ['ipAddress', 'deviceId'],
);

/**
 * 'automatic' (a sale) captures the whole amount as soon as it is authorized; 'manual' waits for
 * CapturePayment, VoidPayment or the authorization's expiry.
 */
export const CAPTURE_MODES = ['automatic', 'manual'] as const;
export type CaptureMode = (typeof CAPTURE_MODES)[number];

/** Card brands as the gateway names them from the IIN (libs/cards). */
export const PAYMENT_CARD_BRANDS = ['visa', 'mastercard', 'amex', 'discover', 'unionpay', 'jcb', 'unknown'] as const;
export type PaymentCardBrand = (typeof PAYMENT_CARD_BRANDS)[number];

/**
 * A card as the platform may know it (PCI DSS): the gateway tokenised the PAN at the edge into the
 * card vault; no message ever holds the PAN or the CVV. The schema leaves no room for one: an opaque
 * token, an HMAC fingerprint in hex, four digits, the brand and the expiry.
 */
export interface PaymentCardData {
  /** The card vault's token (`tok_` + 22 base64url characters); the card connector detokenizes it. */
  token: string;
  /** HMAC-SHA256 of the PAN under the fingerprint key, hex: the same card always gives the same value (risk). */
  fingerprint: string;
  last4: string;
  brand: PaymentCardBrand;
  expMonth: number;
  expYear: number;
}

const paymentCardSchema = objectSchema({
  token: { type: 'string', pattern: '^tok_[A-Za-z0-9_-]{22}$' },
  fingerprint: { type: 'string', pattern: '^[0-9a-f]{64}$' },
  last4: { type: 'string', pattern: '^[0-9]{4}$' },
  brand: enumSchema(PAYMENT_CARD_BRANDS),
  expMonth: { type: 'integer', minimum: 1, maximum: 12 },
  expYear: { type: 'integer', minimum: 2000, maximum: 2099 },
});

/** The payer's e-wallet at its provider (method `e_wallet`); not secret. */
export interface PaymentEWalletData {
  walletId: string;
}

/** The payer's mobile money account (method `mobile_money`): a phone number in E.164 (`+` and up to 15 digits). */
export interface PaymentMobileMoneyData {
  phoneNumber: string;
}

export const E164_PHONE_NUMBER_PATTERN = '^\\+[1-9][0-9]{6,14}$';

/** Bounds of a payment's own authorization lifetime: at least a second, at most 30 days. */
export const MIN_AUTHORIZATION_TTL_MS = 1_000;
export const MAX_AUTHORIZATION_TTL_MS = 30 * 24 * 3_600_000;

export interface RequestPaymentData {
  paymentId: string;
  channel: PaymentChannel;
  merchantId: string;
  merchantAccountId: string;
  payerAccountId: string;
  amount: WireMoney;
  method: PaymentMethod;
  description?: string;
  riskContext?: PaymentRiskContext;
  /** Default 'automatic'. */
  captureMode?: CaptureMode;
  /** How long an uncaptured authorization lives; default 7 days (payments-domain). */
  authorizationTtlMs?: number;
  /** Method `card`: the tokenised card (never the PAN). Absent on messages from before cards. */
  card?: PaymentCardData;
  /** Method `e_wallet`: the payer's wallet at its provider. */
  eWallet?: PaymentEWalletData;
  /** Method `mobile_money`: the payer's phone number. */
  mobileMoney?: PaymentMobileMoneyData;
}

const requestPaymentProperties = {
  paymentId: uuidSchema,
  channel: enumSchema(PAYMENT_CHANNELS),
  merchantId: identifierSchema,
  merchantAccountId: identifierSchema,
  payerAccountId: identifierSchema,
  amount: positiveMoneySchema,
  method: enumSchema(PAYMENT_METHODS),
  description: { type: 'string', maxLength: 200 },
  riskContext: riskContextSchema,
  captureMode: enumSchema(CAPTURE_MODES),
  authorizationTtlMs: { type: 'integer', minimum: MIN_AUTHORIZATION_TTL_MS, maximum: MAX_AUTHORIZATION_TTL_MS },
  card: paymentCardSchema,
  eWallet: objectSchema({ walletId: identifierSchema }),
  mobileMoney: objectSchema({ phoneNumber: { type: 'string', pattern: E164_PHONE_NUMBER_PATTERN } }),
};

// Fields a request may leave out. Adding an optional field keeps schemaVersion 1: every message valid
// before is valid now, and consumers validate against the one version the registry states.
const requestPaymentOptional = ['description', 'riskContext', 'captureMode', 'authorizationTtlMs', 'card', 'eWallet', 'mobileMoney'];

export const RequestPayment = defineContract<'RequestPayment', RequestPaymentData>({
  type: 'RequestPayment',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.paymentsCommands,
  description: 'A channel asks for a payment from a payer account to a merchant account: a sale (captured at once) or an authorization to capture later.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema(requestPaymentProperties, requestPaymentOptional),
});

export interface PaymentRequestedData extends RequestPaymentData {
  requestedAt: string;
}

export const PaymentRequested = defineContract<'PaymentRequested', PaymentRequestedData>({
  type: 'PaymentRequested',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'The payment was accepted for processing; risk scores it next.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ ...requestPaymentProperties, requestedAt: timestampSchema }, requestPaymentOptional),
});

export interface PaymentAuthorizationStartedData {
  paymentId: string;
  holdId: string;
  riskScore: number;
  /** When the authorization (the hold) expires uncaptured; absent on events from before expiry existed. */
  expiresAt?: string;
}

export const PaymentAuthorizationStarted = defineContract<'PaymentAuthorizationStarted', PaymentAuthorizationStartedData>({
  type: 'PaymentAuthorizationStarted',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'Risk approved the payment; a hold on the payer account was asked of the ledger.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, holdId: uuidSchema, riskScore: { type: 'integer', minimum: 0, maximum: 100 }, expiresAt: timestampSchema }, ['expiresAt']),
});

export interface PaymentInReviewData {
  paymentId: string;
  riskScore: number;
  reasons: string[];
  /** What the payment becomes if no analyst decides before the review timeout (absent: decline). */
  timeoutOutcome?: ReviewTimeoutOutcome;
}

export const PaymentInReview = defineContract<'PaymentInReview', PaymentInReviewData>({
  type: 'PaymentInReview',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'Risk asked for a manual review; the payment waits for an analyst.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({
    paymentId: uuidSchema,
    riskScore: { type: 'integer', minimum: 0, maximum: 100 },
    reasons: { type: 'array', items: identifierSchema, maxItems: 20 },
    timeoutOutcome: enumSchema(REVIEW_TIMEOUT_OUTCOMES),
  }, ['timeoutOutcome']),
});

/**
 * Where a payment was declined: by risk's score, by an analyst's review, by the ledger (funds), or by
 * an external rail's connector (card issuer, e-wallet or mobile money provider: `connector_declined:<code>`).
 */
export const DECLINE_STAGES = ['risk', 'review', 'funds', 'connector'] as const;
export type DeclineStage = (typeof DECLINE_STAGES)[number];

export interface PaymentDeclinedData {
  paymentId: string;
  stage: DeclineStage;
  reasonCode: string;
}

export const PaymentDeclined = defineContract<'PaymentDeclined', PaymentDeclinedData>({
  type: 'PaymentDeclined',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'The payment will not be made: declined by risk (or no risk answer in time), by an analyst (or no review in time), refused by the ledger, or declined by the connector of an external rail.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, stage: enumSchema(DECLINE_STAGES), reasonCode: identifierSchema }),
});

export interface PaymentAuthorizedData {
  paymentId: string;
  holdId: string;
  amount: WireMoney;
}

export const PaymentAuthorized = defineContract<'PaymentAuthorized', PaymentAuthorizedData>({
  type: 'PaymentAuthorized',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'The ledger holds the amount on the payer account; the payment can be captured.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, holdId: uuidSchema, amount: positiveMoneySchema }),
});

export interface PaymentCapturedData {
  paymentId: string;
  holdId: string;
  /** What was captured: the authorized amount, or less for a partial capture. */
  amount: WireMoney;
  /** What was authorized; the rest (authorized - captured) went back to the payer. Absent on old events. */
  authorizedAmount?: WireMoney;
}

export const PaymentCaptured = defineContract<'PaymentCaptured', PaymentCapturedData>({
  type: 'PaymentCaptured',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'The captured amount (all or part of the hold) was posted from the payer to the merchant account; the rest of the hold was released.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, holdId: uuidSchema, amount: positiveMoneySchema, authorizedAmount: positiveMoneySchema }, ['authorizedAmount']),
});

/**
 * Version 2 (settlement batches, issue 5): one per captured payment when the merchant's settlement
 * batch closes, with its fee and net; see PaymentSettledV2Data in settlement.ts. Version 1 (a batch of
 * one per capture, `amount` as WireMoney) is no longer produced; its events stay in old payment streams.
 */
export type PaymentSettledData = PaymentSettledV2Data;

export const PaymentSettled = defineContract<'PaymentSettled', PaymentSettledData>({
  type: 'PaymentSettled',
  kind: 'event',
  schemaVersion: PAYMENT_SETTLED_V2_SCHEMA_VERSION,
  topic: Topics.settlementEvents,
  description: "The captured payment was settled in the merchant's closed settlement batch, with its fee and net; downstream systems book it.",
  partitionKey: (data) => data.merchantId,
  schema: paymentSettledV2Schema,
});

// ---------------------------------------------------------------- lifecycle commands (issue 5)

/**
 * Every lifecycle command carries a `commandId` (the gateway's idempotency key or the Kafka message
 * id): the same id with the same body has one effect; with another body it is refused.
 */
const commandIdSchema = identifierSchema;

export interface CapturePaymentData {
  paymentId: string;
  commandId: string;
  /** At most the authorized amount; the rest of the hold is released. Default: the authorized amount. */
  amount?: WireMoney;
}

export const CapturePayment = defineContract<'CapturePayment', CapturePaymentData>({
  type: 'CapturePayment',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.paymentsCommands,
  description: 'Capture an authorized payment (captureMode manual), in full or in part; the uncaptured rest is released.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, commandId: commandIdSchema, amount: positiveMoneySchema }, ['amount']),
});

export interface VoidPaymentData {
  paymentId: string;
  commandId: string;
}

export const VoidPayment = defineContract<'VoidPayment', VoidPaymentData>({
  type: 'VoidPayment',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.paymentsCommands,
  description: 'Cancel an authorized, uncaptured payment: its hold is released in full.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, commandId: commandIdSchema }),
});

export interface RefundPaymentData {
  paymentId: string;
  commandId: string;
  /** Identifies the refund: idempotent, and named in its outcome. */
  refundId: string;
  amount: WireMoney;
}

export const RefundPayment = defineContract<'RefundPayment', RefundPaymentData>({
  type: 'RefundPayment',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.paymentsCommands,
  description: 'Give back part or all of a captured payment; refunds may repeat while their sum stays within the captured amount.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, commandId: commandIdSchema, refundId: uuidSchema, amount: positiveMoneySchema }),
});

export const REVIEW_DECISIONS = ['approve', 'decline'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

export interface ReviewPaymentData {
  paymentId: string;
  commandId: string;
  decision: ReviewDecision;
  /** The analyst, for the audit trail. */
  reviewerId?: string;
}

export const ReviewPayment = defineContract<'ReviewPayment', ReviewPaymentData>({
  type: 'ReviewPayment',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.paymentsCommands,
  description: "An analyst's decision on a payment risk sent to review: approve (authorize it) or decline.",
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, commandId: commandIdSchema, decision: enumSchema(REVIEW_DECISIONS), reviewerId: identifierSchema }, ['reviewerId']),
});

/** What a payment can wait for, each with a timeout (docs/payments.md, "Process manager"). */
export const PAYMENT_WAITS = ['risk', 'review', 'ledger', 'authorization', 'connector'] as const;
export type PaymentWait = (typeof PAYMENT_WAITS)[number];

export interface FirePaymentTimeoutData {
  paymentId: string;
  wait: PaymentWait;
  /** Names the wait within the payment (`ledger:capture`, `ledger:refund:<refundId>`, `connector:authorize` ...). */
  deadlineId: string;
  /** Which time this deadline elapses (a ledger command is sent again under the same deadline). */
  attempt: number;
  dueAt: string;
}

export const FirePaymentTimeout = defineContract<'FirePaymentTimeout', FirePaymentTimeoutData>({
  type: 'FirePaymentTimeout',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.paymentsCommands,
  description: "A payment's timer is due (sent by apps/payments' own scheduler); the process decides whether the wait is still open.",
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({
    paymentId: uuidSchema,
    wait: enumSchema(PAYMENT_WAITS),
    deadlineId: { type: 'string', pattern: '^[a-z]+(:[a-z0-9-]+){0,2}$', maxLength: 64 },
    attempt: { type: 'integer', minimum: 1, maximum: 100 },
    dueAt: timestampSchema,
  }),
});

// ---------------------------------------------------------------- lifecycle events (issue 5)

export interface PaymentVoidedData {
  paymentId: string;
  holdId: string;
  /** The hold released, all of the authorized amount. */
  releasedAmount: WireMoney;
}

export const PaymentVoided = defineContract<'PaymentVoided', PaymentVoidedData>({
  type: 'PaymentVoided',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'The authorized payment was cancelled before capture; its hold was released in full.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, holdId: uuidSchema, releasedAmount: positiveMoneySchema }),
});

export interface PaymentExpiredData {
  paymentId: string;
  holdId: string;
  reasonCode: string;
}

export const PaymentExpired = defineContract<'PaymentExpired', PaymentExpiredData>({
  type: 'PaymentExpired',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'The authorization was not captured in time; the hold is released by the ledger (it carries the same expiry).',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, holdId: uuidSchema, reasonCode: identifierSchema }),
});

export interface PaymentFailedData {
  paymentId: string;
  /** `ledger_timeout`, `connector_unavailable` ... (docs/payments.md). */
  reasonCode: string;
}

export const PaymentFailed = defineContract<'PaymentFailed', PaymentFailedData>({
  type: 'PaymentFailed',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'The payment could not be completed for a technical reason (no answer in time); anything it may hold is released.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, reasonCode: identifierSchema }),
});

export interface PaymentRefundedData {
  paymentId: string;
  refundId: string;
  /** This refund. */
  amount: WireMoney;
  /** Every refund of the payment so far, this one included; at most the captured amount. */
  refundedTotal: WireMoney;
  /** The ledger's reversal transfer. */
  transferId: string;
}

export const PaymentRefunded = defineContract<'PaymentRefunded', PaymentRefundedData>({
  type: 'PaymentRefunded',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'A refund moved the amount back from the merchant to the payer (a ledger reversal of the capture).',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({
    paymentId: uuidSchema, refundId: uuidSchema, amount: positiveMoneySchema, refundedTotal: positiveMoneySchema, transferId: uuidSchema,
  }),
});

export interface RefundFailedData {
  paymentId: string;
  refundId: string;
  amount: WireMoney;
  /** The ledger's reason (`insufficient_funds` of the merchant, `reversal_exceeds_original` ...). */
  reasonCode: string;
}

export const RefundFailed = defineContract<'RefundFailed', RefundFailedData>({
  type: 'RefundFailed',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'An accepted refund was refused by the ledger; nothing moved and the amount may be refunded again.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, refundId: uuidSchema, amount: positiveMoneySchema, reasonCode: identifierSchema }),
});

/** Why a lifecycle command was refused (docs/payments.md), beside the ledger's codes for a refused capture. */
export const PAYMENT_REFUSAL_CODES = [
  'invalid_state', 'payment_not_found', 'duplicate_command_different_body', 'amount_exceeds_authorized',
  'amount_exceeds_refundable', 'currency_mismatch', 'capture_mode_automatic', 'payment_source_missing',
] as const;
export type PaymentRefusalCode = (typeof PAYMENT_REFUSAL_CODES)[number];

export interface PaymentCommandRejectedData {
  paymentId: string;
  commandId: string;
  commandType: string;
  /** A PaymentRefusalCode, or the ledger's code when the ledger refused an accepted capture. */
  reasonCode: string;
  /** The payment's status when it refused, e.g. 'voided'. */
  status: string;
  /** The domain error's sentence ("cannot capture a payment in status 'voided'"). */
  detail: string;
}

/**
 * True when a PaymentCommandRejected answers the capture or void in flight under its command id (the
 * ledger or the connector refused it: the payment has its authorization back), false when it refused
 * a channel's repeat of that id with another body (`duplicate_command_different_body`: the command in
 * flight stands). The payment aggregate and every read model of payment status follow this rule.
 */
export function refusalEndsCommandInFlight(data: Pick<PaymentCommandRejectedData, 'reasonCode'>): boolean {
  return data.reasonCode !== 'duplicate_command_different_body';
}

export const PaymentCommandRejected = defineContract<'PaymentCommandRejected', PaymentCommandRejectedData>({
  type: 'PaymentCommandRejected',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'A lifecycle command was refused (wrong state, amount beyond what is allowed, reused command id); the payment did not change.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({
    paymentId: uuidSchema, commandId: commandIdSchema, commandType: identifierSchema, reasonCode: identifierSchema,
    status: identifierSchema, detail: { type: 'string', maxLength: 500 },
  }),
});
