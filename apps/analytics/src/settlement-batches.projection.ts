import type { SettlementBatchClosedData } from '@clearline/contracts';
import type { RecordedEvent } from '@clearline/event-store';
import type { PoolClient } from 'pg';
import { writeRows, type ColumnSpec } from './bulk-write.js';
import { projectWithFold, type ReadModelFold, type WriteMode } from './read-model-fold.js';

/**
 * Read model 'settlement-batches': one row per batch of the `settlement` streams (payments'
 * settlement decider, libs/payments-domain/src/settlement-batch.ts). Running totals while the batch
 * is open, the published SettlementBatchClosed totals once closed, the ledger's answer to the payout
 * after. Folded per batch of events like payment-flow, one upsert per batch.
 */

export const SETTLEMENT_BATCH_TABLES = ['settlement_batches'] as const;
export type SettlementBatchTable = (typeof SETTLEMENT_BATCH_TABLES)[number];

interface BatchRow {
  batchId: string;
  merchantId: string;
  currency: string;
  batchNo: number;
  merchantAccountId: string;
  status: 'open' | 'closed';
  openedAt: string;
  closedAt: string | null;
  closeReason: string | null;
  paymentCount: number;
  refundCount: number;
  grossMinor: bigint;
  refundsMinor: bigint;
  feesMinor: bigint;
  carriedInMinor: bigint;
  netMinor: bigint | null;
  carriedForwardMinor: bigint | null;
  payoutStatus: 'posted' | 'rejected' | null;
  payoutReasonCode: string | null;
  lastPosition: bigint;
}

const COLUMNS: ColumnSpec[] = [
  { name: 'batch_id', arrayType: 'uuid[]' }, { name: 'merchant_id', arrayType: 'text[]' }, { name: 'currency', arrayType: 'text[]' },
  { name: 'batch_no', arrayType: 'integer[]' }, { name: 'merchant_account_id', arrayType: 'text[]' }, { name: 'status', arrayType: 'text[]' },
  { name: 'opened_at', arrayType: 'timestamptz[]' }, { name: 'closed_at', arrayType: 'timestamptz[]' }, { name: 'close_reason', arrayType: 'text[]' },
  { name: 'payment_count', arrayType: 'integer[]' }, { name: 'refund_count', arrayType: 'integer[]' }, { name: 'gross_minor', arrayType: 'numeric[]' },
  { name: 'refunds_minor', arrayType: 'numeric[]' }, { name: 'fees_minor', arrayType: 'numeric[]' }, { name: 'carried_in_minor', arrayType: 'numeric[]' },
  { name: 'net_minor', arrayType: 'numeric[]' }, { name: 'carried_forward_minor', arrayType: 'numeric[]' }, { name: 'payout_status', arrayType: 'text[]' },
  { name: 'payout_reason_code', arrayType: 'text[]' }, { name: 'last_position', arrayType: 'bigint[]' },
];

const BATCH_EVENT_TYPES = new Set(['SettlementBatchOpened', 'PaymentAddedToSettlementBatch', 'RefundAddedToSettlementBatch', 'SettlementBatchClosed', 'SettlementPayoutPosted', 'SettlementPayoutRejected']);

/** The batch an event of a settlement stream belongs to (SettlementBatchClosed names it settlementBatchId). */
function batchIdOf(event: RecordedEvent): string {
  const data = event.data as { batchId?: string; settlementBatchId?: string };
  return (data.batchId ?? data.settlementBatchId) as string;
}

export async function projectSettlementBatches(events: readonly RecordedEvent[], client: PoolClient, tables: Record<SettlementBatchTable, string>): Promise<void> {
  await projectWithFold(new SettlementBatchesFold(), events, client, tables);
}

export class SettlementBatchesFold implements ReadModelFold<SettlementBatchTable> {
  private readonly rows = new Map<string, BatchRow>();
  private readonly changed = new Set<string>();

  get heldRows(): number {
    return this.rows.size;
  }

  /** Loads the batches `events` continue that the fold does not hold (opened before it began). */
  async load(events: readonly RecordedEvent[], client: PoolClient, tables: Record<SettlementBatchTable, string>): Promise<void> {
    const relevant = events.filter(isBatchEvent);
    const openedHere = new Set(relevant.filter((event) => event.type === 'SettlementBatchOpened').map(batchIdOf));
    const missing = [...new Set(relevant.map(batchIdOf))].filter((batchId) => !openedHere.has(batchId) && !this.rows.has(batchId));
    if (missing.length === 0) return;
    for (const [batchId, row] of await loadBatches(client, tables.settlement_batches, missing)) this.rows.set(batchId, row);
  }

  apply(event: RecordedEvent): void {
    if (!isBatchEvent(event)) return;
    const batchId = batchIdOf(event);
    if (event.type === 'SettlementBatchOpened') {
      if (!this.rows.has(batchId)) this.rows.set(batchId, opened(event));
      this.changed.add(batchId);
      return;
    }
    const row = this.rows.get(batchId);
    // SettlementBatchOpened is each batch stream's first event; without it the read model is broken.
    if (row === undefined) throw new Error(`settlement-batches: ${event.type} at position ${event.globalPosition} for unknown batch ${batchId}`);
    if (row.lastPosition >= event.globalPosition) return;
    apply(row, event);
    row.lastPosition = event.globalPosition;
    this.changed.add(batchId);
  }

  async write(client: PoolClient, tables: Record<SettlementBatchTable, string>, mode: WriteMode): Promise<void> {
    const output = [...this.changed].sort().map((batchId) => {
      const row = this.rows.get(batchId) as BatchRow;
      return [
        row.batchId, row.merchantId, row.currency, row.batchNo, row.merchantAccountId, row.status, row.openedAt, row.closedAt, row.closeReason,
        row.paymentCount, row.refundCount, row.grossMinor.toString(), row.refundsMinor.toString(), row.feesMinor.toString(), row.carriedInMinor.toString(),
        row.netMinor?.toString() ?? null, row.carriedForwardMinor?.toString() ?? null, row.payoutStatus, row.payoutReasonCode, row.lastPosition.toString(),
      ];
    });
    await writeRows(client, mode, tables.settlement_batches, ['batch_id'], COLUMNS, output);
  }
}

function isBatchEvent(event: RecordedEvent): boolean {
  return event.category === 'settlement' && BATCH_EVENT_TYPES.has(event.type);
}

function opened(event: RecordedEvent): BatchRow {
  const data = event.data as { batchId: string; merchantId: string; currency: string; batchNo: number; merchantAccountId: string; carriedInMinor: string; openedAt: string };
  return {
    batchId: data.batchId, merchantId: data.merchantId, currency: data.currency, batchNo: data.batchNo, merchantAccountId: data.merchantAccountId,
    status: 'open', openedAt: data.openedAt, closedAt: null, closeReason: null, paymentCount: 0, refundCount: 0, grossMinor: 0n, refundsMinor: 0n,
    feesMinor: 0n, carriedInMinor: BigInt(data.carriedInMinor), netMinor: null, carriedForwardMinor: null, payoutStatus: null, payoutReasonCode: null,
    lastPosition: event.globalPosition,
  };
}

function apply(row: BatchRow, event: RecordedEvent): void {
  switch (event.type) {
    case 'PaymentAddedToSettlementBatch': {
      const data = event.data as { amountMinor: string; feeMinor: string };
      row.paymentCount += 1;
      row.grossMinor += BigInt(data.amountMinor);
      row.feesMinor += BigInt(data.feeMinor);
      return;
    }
    case 'RefundAddedToSettlementBatch': {
      const data = event.data as { amountMinor: string };
      row.refundCount += 1;
      row.refundsMinor += BigInt(data.amountMinor);
      return;
    }
    case 'SettlementBatchClosed': {
      // The published totals are the decider's; the running ones above must agree with them.
      const data = event.data as SettlementBatchClosedData;
      Object.assign(row, {
        status: 'closed', closedAt: data.closedAt, closeReason: data.reason, paymentCount: data.paymentCount, refundCount: data.refundCount,
        grossMinor: BigInt(data.grossMinor), refundsMinor: BigInt(data.refundsMinor), feesMinor: BigInt(data.feesMinor),
        carriedInMinor: BigInt(data.carriedInMinor), netMinor: BigInt(data.netMinor), carriedForwardMinor: BigInt(data.carriedForwardMinor),
      });
      return;
    }
    case 'SettlementPayoutPosted':
      row.payoutStatus = 'posted';
      row.payoutReasonCode = null;
      return;
    case 'SettlementPayoutRejected':
      row.payoutStatus = 'rejected';
      row.payoutReasonCode = (event.data as { reasonCode: string | null }).reasonCode;
      return;
    default:
      return;
  }
}

async function loadBatches(client: PoolClient, table: string, batchIds: readonly string[]): Promise<Map<string, BatchRow>> {
  const rows = new Map<string, BatchRow>();
  const result = await client.query(`select * from ${table} where batch_id = any($1::uuid[])`, [batchIds]);
  for (const row of result.rows) {
    rows.set(row.batch_id, {
      batchId: row.batch_id, merchantId: row.merchant_id, currency: row.currency, batchNo: row.batch_no, merchantAccountId: row.merchant_account_id,
      status: row.status, openedAt: row.opened_at.toISOString(), closedAt: row.closed_at?.toISOString() ?? null, closeReason: row.close_reason,
      paymentCount: row.payment_count, refundCount: row.refund_count, grossMinor: BigInt(row.gross_minor), refundsMinor: BigInt(row.refunds_minor),
      feesMinor: BigInt(row.fees_minor), carriedInMinor: BigInt(row.carried_in_minor), netMinor: row.net_minor === null ? null : BigInt(row.net_minor),
      carriedForwardMinor: row.carried_forward_minor === null ? null : BigInt(row.carried_forward_minor), payoutStatus: row.payout_status,
      payoutReasonCode: row.payout_reason_code, lastPosition: BigInt(row.last_position),
    });
  }
  return rows;
}
