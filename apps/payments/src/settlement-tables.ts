// The settlement tables of apps/payments/migrations/0002_settlement.sql: terms (fee schedule and
// accounts per merchant), the batch index and the line -> batch lookup. Every write runs in the
// transaction that appends to the batch stream.
import type { FeeSchedule } from '@clearline/payments-domain';
import { preparedStatement, type PreparedStatement } from '@clearline/postgres';
import type { Pool, PoolClient } from 'pg';

/** Charged where neither the merchant nor the currency has a row: 2.9 %, no fixed part (currency-neutral). */
export const DEFAULT_FEE_SCHEDULE: FeeSchedule = { percentBasisPoints: 290n, fixedMinor: 0n };

export interface SettlementTerms {
  feeSchedule: FeeSchedule;
  /** Undefined: the naming convention, and payments opens the account. */
  settlementAccountId: string | undefined;
  feeRevenueAccountId: string | undefined;
}

/**
 * Serialises settlement writes (adding lines, opening, closing, recording the payout), whoever does
 * them: the consumers of three topics, the scheduler, several instances. One lock, taken first in the
 * transaction and held to its end, so two transactions can never wait on each other in a cycle.
 */
export async function lockSettlement(client: PoolClient): Promise<void> {
  await client.query("select pg_advisory_xact_lock(hashtext('clearline-settlement'))");
}

export async function settlementTerms(client: PoolClient, merchantId: string, currency: string): Promise<SettlementTerms> {
  const { rows } = await client.query<{ percent_basis_points: string; fixed_minor: string; settlement_account_id: string | null; fee_revenue_account_id: string | null }>(
    `select percent_basis_points, fixed_minor, settlement_account_id, fee_revenue_account_id from payments.settlement_terms
     where currency = $2 and merchant_id in ($1, '*') order by (merchant_id = '*') limit 1`,
    [merchantId, currency],
  );
  const row = rows[0];
  if (!row) return { feeSchedule: DEFAULT_FEE_SCHEDULE, settlementAccountId: undefined, feeRevenueAccountId: undefined };
  return {
    feeSchedule: { percentBasisPoints: BigInt(row.percent_basis_points), fixedMinor: BigInt(row.fixed_minor) },
    settlementAccountId: row.settlement_account_id ?? undefined,
    feeRevenueAccountId: row.fee_revenue_account_id ?? undefined,
  };
}

export type PayoutStatus = 'none' | 'pending' | 'posted' | 'rejected';

export interface SettlementBatchRow {
  batchId: string;
  merchantId: string;
  currency: string;
  batchNo: number;
  status: 'open' | 'closed';
  carriedForwardMinor: bigint | undefined;
  ledgerBatchId: string | undefined;
  payoutStatus: PayoutStatus;
  payoutAttempt: number;
}

interface BatchRecord {
  batch_id: string;
  merchant_id: string;
  currency: string;
  batch_no: number;
  status: 'open' | 'closed';
  carried_forward_minor: string | null;
  ledger_batch_id: string | null;
  payout_status: PayoutStatus;
  payout_attempt: number;
}

const BATCH_COLUMNS = 'batch_id, merchant_id, currency, batch_no, status, carried_forward_minor, ledger_batch_id, payout_status, payout_attempt';

function batchRow(record: BatchRecord): SettlementBatchRow {
  return {
    batchId: record.batch_id,
    merchantId: record.merchant_id,
    currency: record.currency,
    batchNo: record.batch_no,
    status: record.status,
    carriedForwardMinor: record.carried_forward_minor === null ? undefined : BigInt(record.carried_forward_minor),
    ledgerBatchId: record.ledger_batch_id ?? undefined,
    payoutStatus: record.payout_status,
    payoutAttempt: record.payout_attempt,
  };
}

/** One per `where` of the functions below (a handful of constant texts). */
const oneBatchStatements = new Map<string, PreparedStatement>();

async function oneBatch(queryable: Pool | PoolClient, where: string, parameters: unknown[]): Promise<SettlementBatchRow | undefined> {
  let statement = oneBatchStatements.get(where);
  if (statement === undefined) {
    statement = preparedStatement(`select ${BATCH_COLUMNS} from payments.settlement_batches where ${where} limit 1`);
    oneBatchStatements.set(where, statement);
  }
  const { rows } = await queryable.query<BatchRecord>({ ...statement, values: parameters });
  return rows[0] ? batchRow(rows[0]) : undefined;
}

export function batchById(queryable: Pool | PoolClient, batchId: string): Promise<SettlementBatchRow | undefined> {
  return oneBatch(queryable, 'batch_id = $1', [batchId]);
}

export function openBatchOf(client: PoolClient, merchantId: string, currency: string): Promise<SettlementBatchRow | undefined> {
  return oneBatch(client, "merchant_id = $1 and currency = $2 and status = 'open'", [merchantId, currency]);
}

/** The merchant's latest batch in the currency, open or closed. */
export function lastBatchOf(client: PoolClient, merchantId: string, currency: string): Promise<SettlementBatchRow | undefined> {
  return oneBatch(client, 'merchant_id = $1 and currency = $2 order by batch_no desc', [merchantId, currency]);
}

export function batchOfLedgerBatch(client: PoolClient, ledgerBatchId: string): Promise<SettlementBatchRow | undefined> {
  return oneBatch(client, 'ledger_batch_id = $1', [ledgerBatchId]);
}

/** The batch that counted this payment (kind 'payment', its id) or refund (kind 'refund', its id). */
export async function batchOfLine(client: PoolClient, kind: 'payment' | 'refund', lineId: string): Promise<SettlementBatchRow | undefined> {
  return oneBatch(client, 'batch_id = (select batch_id from payments.settlement_lines where line_kind = $1 and line_id = $2)', [kind, lineId]);
}

export async function insertOpenBatch(
  client: PoolClient,
  batch: { batchId: string; merchantId: string; currency: string; batchNo: number; openedAt: string; dueAt: string },
): Promise<void> {
  await client.query(
    `insert into payments.settlement_batches (batch_id, merchant_id, currency, batch_no, status, opened_at, due_at) values ($1, $2, $3, $4, 'open', $5, $6)`,
    [batch.batchId, batch.merchantId, batch.currency, batch.batchNo, batch.openedAt, batch.dueAt],
  );
}

export async function recordLine(client: PoolClient, kind: 'payment' | 'refund', lineId: string, batchId: string): Promise<void> {
  await client.query('insert into payments.settlement_lines (line_kind, line_id, batch_id) values ($1, $2, $3)', [kind, lineId, batchId]);
}

export async function markBatchClosed(
  client: PoolClient,
  batchId: string,
  closed: { closedAt: string; carriedForwardMinor: bigint; ledgerBatchId: string | undefined },
): Promise<void> {
  await client.query(
    `update payments.settlement_batches
     set status = 'closed', closed_at = $2, carried_forward_minor = $3, ledger_batch_id = $4,
         payout_status = case when $4::uuid is null then 'none' else 'pending' end, payout_attempt = case when $4::uuid is null then 0 else 1 end
     where batch_id = $1`,
    [batchId, closed.closedAt, closed.carriedForwardMinor.toString(), closed.ledgerBatchId ?? null],
  );
}

export async function markPayoutAsked(client: PoolClient, batchId: string, ledgerBatchId: string, attempt: number): Promise<void> {
  await client.query(
    "update payments.settlement_batches set ledger_batch_id = $2, payout_attempt = $3, payout_status = 'pending', payout_reason = null where batch_id = $1",
    [batchId, ledgerBatchId, attempt],
  );
}

export async function markPayoutAnswered(client: PoolClient, batchId: string, status: 'posted' | 'rejected', reason: string | null): Promise<void> {
  await client.query('update payments.settlement_batches set payout_status = $2, payout_reason = $3 where batch_id = $1', [batchId, status, reason]);
}

/** Open batches whose settlement window has ended, oldest first. */
export async function dueBatches(pool: Pool, now: Date, limit: number): Promise<SettlementBatchRow[]> {
  const { rows } = await pool.query<BatchRecord>(
    `select ${BATCH_COLUMNS} from payments.settlement_batches where status = 'open' and due_at <= $1 order by due_at limit $2`,
    [now, limit],
  );
  return rows.map(batchRow);
}
