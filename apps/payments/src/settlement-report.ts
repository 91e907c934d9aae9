// The report of one closed settlement batch and its reconciliation with the ledger, as the
// `npm run settlement:report -- <batchId>` command and the tests use them.
import type { LinkedTransfersPostedData } from '@clearline/contracts';
import { aggregateStream, type PostgresEventStore } from '@clearline/event-store';
import { moneyFromMinor, type Money } from '@clearline/money';
import {
  evolveSettlementBatch, initialSettlementBatchState, reconcileSettlementReport, SETTLEMENT_BATCH_EVENT_TYPES, settlementReportCsv,
  type SettlementBatchEvent, type SettlementBatchState, type SettlementReconciliation,
} from '@clearline/payments-domain';
import type { Pool } from 'pg';
import { settlementStreamId } from './settlement-naming.js';
import { batchById, type PayoutStatus } from './settlement-tables.js';

export interface SettlementBatchReport {
  batchId: string;
  /** RFC 4180, from the batch's own stream (settlement-report.ts of the payments domain). */
  csv: string;
  /** What the ledger credited the merchant's settlement account with for this batch (zero when nothing moved). */
  ledgerCredit: Money;
  payoutStatus: PayoutStatus;
  reconciliation: SettlementReconciliation;
}

export class SettlementReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettlementReportError';
  }
}

/**
 * Builds the CSV of a closed batch from its stream and reconciles it with the ledger: the credit of
 * the batch's settlement account in the ledger's linked transfers (`transfer-<ledgerBatchId>`, the
 * latest payout attempt). A payout the ledger refused or has not posted yet credits nothing, so a
 * batch with a net to pay does not reconcile until it is posted.
 */
export async function settlementBatchReport(pool: Pool, store: PostgresEventStore, batchId: string): Promise<SettlementBatchReport> {
  const row = await batchById(pool, batchId);
  if (row === undefined) throw new SettlementReportError(`no settlement batch ${batchId}`);
  const { state } = await aggregateStream<SettlementBatchState, SettlementBatchEvent>(store, settlementStreamId(row.merchantId, row.currency, row.batchNo), {
    initialState: initialSettlementBatchState,
    evolve: evolveSettlementBatch,
    accepts: (type) => SETTLEMENT_BATCH_EVENT_TYPES.has(type),
  });
  if (state.status !== 'closed') throw new SettlementReportError(`settlement batch ${batchId} is ${state.status}; a report is made when it closes`);
  const csv = settlementReportCsv(state);
  let creditMinor = 0n;
  if (row.ledgerBatchId !== undefined) {
    const events = await store.readStream(`transfer-${row.ledgerBatchId}`);
    const posted = events.find((event) => event.type === 'LinkedTransfersPosted');
    for (const leg of (posted?.data as LinkedTransfersPostedData | undefined)?.transfers ?? []) {
      if (leg.creditAccountId === state.batch.accounts.settlementAccountId) creditMinor += BigInt(leg.amount.amountMinor);
    }
  }
  const ledgerCredit = moneyFromMinor(creditMinor, row.currency);
  return { batchId, csv, ledgerCredit, payoutStatus: row.payoutStatus, reconciliation: reconcileSettlementReport(csv, ledgerCredit) };
}
