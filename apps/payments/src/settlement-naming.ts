// Names settlement uses: batch streams, batch ids and the ledger accounts found by convention.
import { deriveMessageId, IDENTIFIER_PATTERN } from '@clearline/contracts';

export const SETTLEMENT_CATEGORY = 'settlement';

const IDENTIFIER = new RegExp(IDENTIFIER_PATTERN);

/** `settlement-<merchantId>-<currency>-<batchNo>` (docs/payments.md). */
export function settlementStreamId(merchantId: string, currency: string, batchNo: number): string {
  return `${SETTLEMENT_CATEGORY}-${merchantId}-${currency}-${batchNo}`;
}

/**
 * The merchant of a batch stream: what is between the category and the last two parts (currency and
 * batch number); a merchant id may itself hold dashes. The outbox relay keys every message of a
 * merchant's batches by it, so they stay in order per merchant on settlement.events and ledger.commands.
 */
export function merchantOfSettlementStream(streamId: string): string {
  const parts = streamId.split('-');
  if (parts.length < 4 || parts[0] !== SETTLEMENT_CATEGORY) throw new Error(`'${streamId}' is not a settlement batch stream`);
  return parts.slice(1, -2).join('-');
}

/** Derived from merchant, currency and number: every instance opening batch n agrees on its id. */
export function settlementBatchId(merchantId: string, currency: string, batchNo: number): string {
  return deriveMessageId(`${merchantId}:${currency}`, `settlement-batch:${batchNo}`);
}

/**
 * The merchant's payout account in a currency, by convention `settlement-<merchantId>-<currency>`
 * (kind `settlement`); when that would exceed the 64 characters of a ledger id, `settlement-` and a
 * uuid derived from merchant and currency.
 */
export function conventionalSettlementAccountId(merchantId: string, currency: string): string {
  const named = `settlement-${merchantId}-${currency}`;
  return IDENTIFIER.test(named) ? named : `settlement-${deriveMessageId(merchantId, currency)}`;
}

/** The platform's fee revenue account per currency, by convention `fee-revenue-<currency>` (kind `fee_revenue`). */
export function conventionalFeeRevenueAccountId(currency: string): string {
  return `fee-revenue-${currency}`;
}
