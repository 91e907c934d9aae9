// What a closed settlement batch publishes on `settlement.events`, with ids derived from the batch,
// so a close handled twice publishes the very same messages and consumers de-duplicate them by id.
import {
  deriveMessageId, PAYMENT_SETTLED_V2_SCHEMA_VERSION, type PaymentSettledV2Data, type RefundSettledData, type SettlementBatchClosedData,
} from '@clearline/contracts';
import type { ClosedSettlementBatchState } from './settlement-batch.js';

export type SettlementPublication =
  | { id: string; type: 'PaymentSettled'; schemaVersion: typeof PAYMENT_SETTLED_V2_SCHEMA_VERSION; data: PaymentSettledV2Data }
  | { id: string; type: 'RefundSettled'; schemaVersion: 1; data: RefundSettledData }
  | { id: string; type: 'SettlementBatchClosed'; schemaVersion: 1; data: SettlementBatchClosedData };

/**
 * One PaymentSettled (version 2) per payment and one RefundSettled per refund, in the batch's
 * order, then SettlementBatchClosed last: a consumer that has read the close has read every line.
 */
export function settlementPublications(state: ClosedSettlementBatchState): SettlementPublication[] {
  const { batch, closed } = state;
  const common = { merchantId: batch.merchantId, merchantAccountId: batch.accounts.merchantAccountId, settlementBatchId: batch.batchId, currency: batch.currency };
  const lines: SettlementPublication[] = state.lines.toArray().map((line) => {
    if (line.kind === 'payment') {
      return {
        id: deriveMessageId(batch.batchId, `PaymentSettled:${line.paymentId}`),
        type: 'PaymentSettled',
        schemaVersion: PAYMENT_SETTLED_V2_SCHEMA_VERSION,
        data: {
          paymentId: line.paymentId,
          ...common,
          grossMinor: line.amountMinor.toString(),
          feeMinor: line.feeMinor.toString(),
          netMinor: (line.amountMinor - line.feeMinor).toString(),
          capturedAt: line.capturedAt,
          settledAt: closed.closedAt,
        },
      };
    }
    return {
      id: deriveMessageId(batch.batchId, `RefundSettled:${line.refundId}`),
      type: 'RefundSettled',
      schemaVersion: 1,
      data: { refundId: line.refundId, paymentId: line.paymentId, ...common, amountMinor: line.amountMinor.toString(), refundedAt: line.refundedAt, settledAt: closed.closedAt },
    };
  });
  return [...lines, { id: deriveMessageId(batch.batchId, 'SettlementBatchClosed'), type: 'SettlementBatchClosed', schemaVersion: 1, data: closed }];
}
