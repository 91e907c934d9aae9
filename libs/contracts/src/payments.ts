import { defineContract } from './contract.js';
import {
  enumSchema, identifierSchema, objectSchema, positiveMoneySchema, timestampSchema, uuidSchema,
  type WireMoney,
} from './schema.js';
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
};

export const RequestPayment = defineContract<'RequestPayment', RequestPaymentData>({
  type: 'RequestPayment',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.paymentsCommands,
  description: 'A channel asks for a payment from a payer account to a merchant account (sale: authorize, then capture).',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema(requestPaymentProperties, ['description', 'riskContext']),
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
  schema: objectSchema({ ...requestPaymentProperties, requestedAt: timestampSchema }, ['description', 'riskContext']),
});

export interface PaymentAuthorizationStartedData {
  paymentId: string;
  holdId: string;
  riskScore: number;
}

export const PaymentAuthorizationStarted = defineContract<'PaymentAuthorizationStarted', PaymentAuthorizationStartedData>({
  type: 'PaymentAuthorizationStarted',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'Risk approved the payment; a hold on the payer account was asked of the ledger.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, holdId: uuidSchema, riskScore: { type: 'integer', minimum: 0, maximum: 100 } }),
});

export interface PaymentInReviewData {
  paymentId: string;
  riskScore: number;
  reasons: string[];
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
  }),
});

export const DECLINE_STAGES = ['risk', 'funds'] as const;
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
  description: 'The payment will not be made: declined by risk or refused by the ledger.',
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
  amount: WireMoney;
}

export const PaymentCaptured = defineContract<'PaymentCaptured', PaymentCapturedData>({
  type: 'PaymentCaptured',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.paymentsEvents,
  description: 'The held amount was posted from the payer to the merchant account.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({ paymentId: uuidSchema, holdId: uuidSchema, amount: positiveMoneySchema }),
});

export interface PaymentSettledData {
  paymentId: string;
  merchantId: string;
  merchantAccountId: string;
  amount: WireMoney;
  settledAt: string;
}

export const PaymentSettled = defineContract<'PaymentSettled', PaymentSettledData>({
  type: 'PaymentSettled',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.settlementEvents,
  description: 'The captured payment is settled to the merchant; downstream systems book it.',
  partitionKey: (data) => data.merchantId,
  schema: objectSchema({
    paymentId: uuidSchema,
    merchantId: identifierSchema,
    merchantAccountId: identifierSchema,
    amount: positiveMoneySchema,
    settledAt: timestampSchema,
  }),
});
