// Settlement's public contracts on `settlement.events`: what downstream systems (accounting, merchant
// reporting, the channel's webhooks) book when a settlement batch closes. Every message is keyed by
// merchant id so one merchant's settlement events stay in order on one partition.
import { defineContract } from './contract.js';
import {
  currencySchema, enumSchema, identifierSchema, MINOR_UNITS_PATTERN, objectSchema, POSITIVE_MINOR_UNITS_PATTERN,
  SIGNED_MINOR_UNITS_PATTERN, timestampSchema, uuidSchema, type JsonSchema,
} from './schema.js';
import { Topics } from './topics.js';

/** Why a batch closed: the daily (configurable) schedule, or an explicit CloseSettlementBatch. */
export const SETTLEMENT_CLOSE_REASONS = ['schedule', 'on_demand'] as const;
export type SettlementCloseReason = (typeof SETTLEMENT_CLOSE_REASONS)[number];

const minorSchema: JsonSchema = { type: 'string', pattern: MINOR_UNITS_PATTERN };
const positiveMinorSchema: JsonSchema = { type: 'string', pattern: POSITIVE_MINOR_UNITS_PATTERN };
const signedMinorSchema: JsonSchema = { type: 'string', pattern: SIGNED_MINOR_UNITS_PATTERN };
/** Bounds a batch (see MAX_SETTLEMENT_BATCH_LINES in the payments domain); counts are never larger. */
const countSchema: JsonSchema = { type: 'integer', minimum: 0, maximum: 1_000_000 };

// ---------------------------------------------------------------- per refund

/**
 * A refund counted in a closed batch. Stated policy: a refund returns no fee, so its effect on the
 * batch's net is exactly -amountMinor. Amounts are minor units of `currency`, as decimal strings.
 */
export interface RefundSettledData {
  refundId: string;
  paymentId: string;
  merchantId: string;
  merchantAccountId: string;
  settlementBatchId: string;
  currency: string;
  amountMinor: string;
  refundedAt: string;
  settledAt: string;
}

export const RefundSettled = defineContract<'RefundSettled', RefundSettledData>({
  type: 'RefundSettled',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.settlementEvents,
  description: "A refund was counted in the merchant's closed settlement batch (deducted from its net; no fee is returned).",
  partitionKey: (data) => data.merchantId,
  schema: objectSchema({
    refundId: uuidSchema,
    paymentId: uuidSchema,
    merchantId: identifierSchema,
    merchantAccountId: identifierSchema,
    settlementBatchId: uuidSchema,
    currency: currencySchema,
    amountMinor: positiveMinorSchema,
    refundedAt: timestampSchema,
    settledAt: timestampSchema,
  }),
});

// ---------------------------------------------------------------- per batch

/**
 * The totals of a closed batch, in minor units of `currency`. They always satisfy
 * grossMinor - refundsMinor - feesMinor - carriedInMinor = netMinor - carriedForwardMinor,
 * with netMinor and carriedForwardMinor never both positive: a batch either pays the merchant
 * (netMinor) or leaves what the merchant owes to the next batch (carriedForwardMinor).
 */
export interface SettlementBatchClosedData {
  settlementBatchId: string;
  merchantId: string;
  merchantAccountId: string;
  currency: string;
  /** 1 for a merchant's first batch in this currency, then consecutive. */
  batchNo: number;
  reason: SettlementCloseReason;
  openedAt: string;
  closedAt: string;
  paymentCount: number;
  refundCount: number;
  /** Sum of the captured amounts. */
  grossMinor: string;
  /** Sum of the refunded amounts. */
  refundsMinor: string;
  /** Sum of the per-payment fees (refunds return none). */
  feesMinor: string;
  /** What the merchant still owed from the previous batch (its carriedForwardMinor). */
  carriedInMinor: string;
  /** Moved from the merchant account to the merchant's settlement account. */
  netMinor: string;
  /** What the merchant owes the next batch, when refunds, fees and carry-in exceed the gross. */
  carriedForwardMinor: string;
  /** The ledger's PostLinkedTransfers batch; absent when nothing moves (net and fees both zero). */
  ledgerBatchId?: string;
  /** The linked transfer merchant -> settlement account; absent when netMinor is zero. */
  netTransferId?: string;
  /** The linked transfer merchant -> fee revenue account; absent when feesMinor is zero. */
  feeTransferId?: string;
}

export const SettlementBatchClosed = defineContract<'SettlementBatchClosed', SettlementBatchClosedData>({
  type: 'SettlementBatchClosed',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.settlementEvents,
  description: "A merchant's settlement batch in one currency closed: totals, counts, carry-over and the ledger transfers that move its net and fees.",
  partitionKey: (data) => data.merchantId,
  schema: objectSchema(
    {
      settlementBatchId: uuidSchema,
      merchantId: identifierSchema,
      merchantAccountId: identifierSchema,
      currency: currencySchema,
      batchNo: { type: 'integer', minimum: 1 },
      reason: enumSchema(SETTLEMENT_CLOSE_REASONS),
      openedAt: timestampSchema,
      closedAt: timestampSchema,
      paymentCount: countSchema,
      refundCount: countSchema,
      grossMinor: minorSchema,
      refundsMinor: minorSchema,
      feesMinor: minorSchema,
      carriedInMinor: minorSchema,
      netMinor: minorSchema,
      carriedForwardMinor: minorSchema,
      ledgerBatchId: uuidSchema,
      netTransferId: uuidSchema,
      feeTransferId: uuidSchema,
    },
    ['ledgerBatchId', 'netTransferId', 'feeTransferId'],
  ),
});

// ---------------------------------------------------------------- PaymentSettled, version 2

/**
 * PaymentSettled's data at schemaVersion 2 (the contract itself is in payments.ts, where version 1
 * was): one per payment when its settlement batch closes.
 *
 * Version 1's `amount` (WireMoney) became `currency` + `grossMinor`, next to the fee and the net,
 * because a fee of zero is valid and WireMoney's schema is strictly positive.
 */
export interface PaymentSettledV2Data {
  paymentId: string;
  merchantId: string;
  merchantAccountId: string;
  settlementBatchId: string;
  currency: string;
  /** The captured amount. */
  grossMinor: string;
  /** fixedMinor + round_half_even(gross x percentBasisPoints / 10 000), under the batch's fee schedule. */
  feeMinor: string;
  /** grossMinor - feeMinor; negative when a fixed fee exceeds a very small payment. */
  netMinor: string;
  capturedAt: string;
  /** When the batch closed. */
  settledAt: string;
}

export const PAYMENT_SETTLED_V2_SCHEMA_VERSION = 2;

export const paymentSettledV2Schema: JsonSchema = objectSchema({
  paymentId: uuidSchema,
  merchantId: identifierSchema,
  merchantAccountId: identifierSchema,
  settlementBatchId: uuidSchema,
  currency: currencySchema,
  grossMinor: positiveMinorSchema,
  feeMinor: minorSchema,
  netMinor: signedMinorSchema,
  capturedAt: timestampSchema,
  settledAt: timestampSchema,
});

// ---------------------------------------------------------------- closing on demand

export interface CloseSettlementBatchData {
  /** Identifies the request (an operator's or the gateway's idempotency key). */
  commandId: string;
  merchantId: string;
  currency: string;
  /**
   * The batch to close. Absent: the merchant's open batch in `currency`, if any. Naming a batch
   * already closed is a no-op, unless the ledger refused its payout: then the payout is asked again.
   */
  settlementBatchId?: string;
}

export const CloseSettlementBatch = defineContract<'CloseSettlementBatch', CloseSettlementBatchData>({
  type: 'CloseSettlementBatch',
  kind: 'command',
  schemaVersion: 1,
  topic: Topics.paymentsCommands,
  description: "Close a merchant's open settlement batch in one currency now (on demand), instead of waiting for the schedule.",
  partitionKey: (data) => data.merchantId,
  schema: objectSchema(
    { commandId: identifierSchema, merchantId: identifierSchema, currency: currencySchema, settlementBatchId: uuidSchema },
    ['settlementBatchId'],
  ),
});
