import {
  DEFAULT_REVIEW_TIMEOUT_OUTCOME, refusalEndsCommandInFlight,
  type PaymentAuthorizationStartedData, type PaymentAuthorizedData, type PaymentCapturedData, type PaymentCommandRejectedData,
  type PaymentDeclinedData, type PaymentExpiredData, type PaymentFailedData, type PaymentInReviewData, type PaymentRefundedData,
  type PaymentRequestedData, type PaymentSettledV2Data, type PaymentVoidedData, type RefundFailedData, type RiskAssessedData, type WireMoney,
} from '@clearline/contracts';
import type { RecordedEvent } from '@clearline/event-store';
import type { PoolClient } from 'pg';
import { writeRows, type ColumnSpec } from './bulk-write.js';
import { projectWithFold, type ReadModelFold, type WriteMode } from './read-model-fold.js';

/**
 * Read model 'payments' (migration 0004): one row per payment following its whole lifecycle. The
 * status is the payment aggregate's (libs/payments-domain evolvePayment: the same transitions, applied
 * to the same events in the same order), shown as `settled` while it is `captured` and its settlement
 * batch has closed. A batch of events is folded in memory over the rows it continues, then written
 * with one statement per table, in the subscription's transaction with its checkpoint; a row is a pure
 * function of its events, so any split into batches writes the same bytes.
 */

export const PAYMENTS_TABLES = ['payments', 'risk_assessments'] as const;
export type PaymentsTable = (typeof PAYMENTS_TABLES)[number];

/** PaymentSettled v2 comes from the settlement batch streams when a batch closes. */
export const PAYMENTS_CATEGORIES = ['payment', 'risk', 'settlement'];

/** The reviewer evolvePayment's review timeout records (payments-domain REVIEW_TIMEOUT_REVIEWER). */
const REVIEW_TIMEOUT_REVIEWER = 'review_timeout';

const CAPTURED_STATUSES: ReadonlySet<string> = new Set(['captured', 'refunding', 'partially_refunded', 'refunded']);
const FINAL_STATUSES: ReadonlySet<string> = new Set(['declined', 'failed', 'voided', 'expired', 'refunded']);

/** Internal payment events (payments-domain, not contracts) the read model needs. */
interface CaptureStartedData { paymentId: string; holdId: string; amount: WireMoney; commandId?: string }
interface VoidStartedData { paymentId: string; holdId: string; commandId: string }
interface RefundStartedData { paymentId: string; refundId: string; amount: WireMoney }
interface ReviewedData { paymentId: string; decision: string; reviewerId?: string }

const PAYMENT_COLUMNS = [
  ['payment_id', 'uuid[]'], ['status', 'text[]'], ['channel', 'text[]'], ['method', 'text[]'], ['merchant_id', 'text[]'],
  ['merchant_account_id', 'text[]'], ['payer_account_id', 'text[]'], ['capture_mode', 'text[]'], ['amount_minor', 'numeric[]'],
  ['currency', 'text[]'], ['authorized_minor', 'numeric[]'], ['captured_minor', 'numeric[]'], ['refunded_minor', 'numeric[]'],
  ['pending_refund_minor', 'numeric[]'], ['refund_count', 'integer[]'], ['risk_score', 'smallint[]'], ['risk_decision', 'text[]'],
  ['risk_reasons', 'jsonb[]'], ['review_timeout_outcome', 'text[]'], ['review_decision', 'text[]'], ['reviewed_by', 'text[]'],
  ['decline_stage', 'text[]'], ['decline_reason', 'text[]'], ['failure_reason', 'text[]'], ['expiry_reason', 'text[]'],
  ['refund_failure_reason', 'text[]'], ['hold_id', 'uuid[]'], ['settlement_batch_id', 'uuid[]'], ['requested_at', 'timestamptz[]'],
  ['review_started_at', 'timestamptz[]'], ['reviewed_at', 'timestamptz[]'], ['authorization_started_at', 'timestamptz[]'],
  ['authorized_at', 'timestamptz[]'], ['decided_at', 'timestamptz[]'], ['capture_started_at', 'timestamptz[]'], ['captured_at', 'timestamptz[]'],
  ['void_started_at', 'timestamptz[]'], ['voided_at', 'timestamptz[]'], ['expired_at', 'timestamptz[]'], ['refund_started_at', 'timestamptz[]'],
  ['refunded_at', 'timestamptz[]'], ['settled_at', 'timestamptz[]'], ['ended_at', 'timestamptz[]'], ['updated_at', 'timestamptz[]'],
  ['last_position', 'bigint[]'], ['capture_command_id', 'text[]'], ['void_command_id', 'text[]'],
] as const;
type PaymentColumn = (typeof PAYMENT_COLUMNS)[number][0];
const PAYMENT_COLUMN_SPECS: ColumnSpec[] = PAYMENT_COLUMNS.map(([name, arrayType]) => ({ name, arrayType }));

/**
 * A row as the table holds it, keyed by column: numerics as decimal strings, times as Dates (or the
 * ISO strings of the events), jsonb as its JSON text when written.
 */
type PaymentRow = Record<PaymentColumn, unknown>;

interface RiskAssessment { payment_id: string; score: number; decision: string; reasons: unknown; assessed_at: Date }
const RISK_COLUMN_SPECS: ColumnSpec[] = [
  { name: 'payment_id', arrayType: 'uuid[]' }, { name: 'score', arrayType: 'smallint[]' }, { name: 'decision', arrayType: 'text[]' },
  { name: 'reasons', arrayType: 'jsonb[]' }, { name: 'assessed_at', arrayType: 'timestamptz[]' },
];

function minor(value: unknown): bigint {
  return BigInt(value as string);
}

/** payments-domain capturedStatus: what a captured payment's amounts make of its status. */
function capturedStatus(row: PaymentRow): string {
  if (minor(row.pending_refund_minor) > 0n) return 'refunding';
  const refunded = minor(row.refunded_minor);
  if (refunded === 0n) return 'captured';
  return refunded >= minor(row.captured_minor) ? 'refunded' : 'partially_refunded';
}

/** The aggregate's status: `settled` is `captured` shown once the batch closed. */
function aggregateStatus(row: PaymentRow): string {
  return row.status === 'settled' ? 'captured' : (row.status as string);
}

export class PaymentsFold implements ReadModelFold<PaymentsTable> {
  private readonly payments = new Map<string, PaymentRow>();
  private readonly assessments = new Map<string, RiskAssessment>();
  private readonly changedPayments = new Set<string>();
  private readonly newAssessments = new Set<string>();

  get heldRows(): number {
    return this.payments.size + this.assessments.size;
  }

  /** Loads the rows and assessments of the payments `events` continue that the fold does not hold. */
  async load(events: readonly RecordedEvent[], client: PoolClient, tables: Record<PaymentsTable, string>): Promise<void> {
    const paymentIds = new Set<string>();
    for (const event of events) {
      if (event.category === 'settlement' && event.type !== 'PaymentSettled') continue;
      const paymentId = (event.data as { paymentId?: unknown }).paymentId;
      if (typeof paymentId === 'string') paymentIds.add(paymentId);
    }
    const rowIds = [...paymentIds].filter((paymentId) => !this.payments.has(paymentId));
    if (rowIds.length > 0) {
      const payments = await client.query(`select ${PAYMENT_COLUMNS.map(([name]) => name).join(', ')} from ${tables.payments} where payment_id = any($1::uuid[])`, [rowIds]);
      for (const row of payments.rows) this.payments.set(row.payment_id, row as PaymentRow);
    }
    const assessmentIds = [...paymentIds].filter((paymentId) => !this.assessments.has(paymentId));
    if (assessmentIds.length > 0) {
      const assessments = await client.query<RiskAssessment>(`select payment_id, score, decision, reasons, assessed_at from ${tables.risk_assessments} where payment_id = any($1::uuid[])`, [assessmentIds]);
      for (const row of assessments.rows) this.assessments.set(row.payment_id, row);
    }
  }

  async write(client: PoolClient, tables: Record<PaymentsTable, string>, mode: WriteMode): Promise<void> {
    // Sorted by key, so concurrent writers (a live batch and a rebuild's swap) lock rows in one order.
    const payments = [...this.changedPayments].sort().map((paymentId) => {
      const row = this.payments.get(paymentId) as PaymentRow;
      return PAYMENT_COLUMNS.map(([name]) => (name === 'risk_reasons' ? jsonText(row[name]) : row[name]));
    });
    const assessments = [...this.newAssessments].sort().map((paymentId) => {
      const row = this.assessments.get(paymentId) as RiskAssessment;
      return [row.payment_id, row.score, row.decision, jsonText(row.reasons), row.assessed_at];
    });
    await writeRows(client, mode, tables.risk_assessments, ['payment_id'], RISK_COLUMN_SPECS, assessments);
    await writeRows(client, mode, tables.payments, ['payment_id'], PAYMENT_COLUMN_SPECS, payments);
  }

  apply(event: RecordedEvent): void {
    if (event.type === 'RiskAssessed') return this.riskAssessed(event.data as RiskAssessedData, event.recordedAt);
    if (event.type === 'PaymentRequested') return this.requested(event);
    if (event.category === 'settlement' && event.type !== 'PaymentSettled') return;
    const paymentId = (event.data as { paymentId?: string }).paymentId;
    const row = paymentId === undefined ? undefined : this.payments.get(paymentId);
    // PaymentRequested opens every payment stream; like evolvePayment, nothing applies before it.
    if (row === undefined || !this.evolve(row, event)) return;
    if (!FINAL_STATUSES.has(row.status as string)) row.ended_at = null;
    else if (row.ended_at === null) row.ended_at = event.recordedAt;
    if (row.status === 'captured' && row.settled_at !== null) row.status = 'settled';
    row.updated_at = event.recordedAt;
    row.last_position = event.globalPosition.toString();
    this.changedPayments.add(row.payment_id as string);
  }

  /** evolvePayment's transitions, on the row; false when the event changes nothing here. */
  private evolve(row: PaymentRow, event: RecordedEvent): boolean {
    const at = event.recordedAt;
    const status = aggregateStatus(row);
    switch (event.type) {
      case 'PaymentAuthorizationStarted': {
        const data = event.data as PaymentAuthorizationStartedData;
        Object.assign(row, { status: 'authorizing', hold_id: data.holdId, authorization_started_at: at });
        return true;
      }
      case 'PaymentInReview': {
        const data = event.data as PaymentInReviewData;
        Object.assign(row, { status: 'in_review', review_started_at: at, review_timeout_outcome: data.timeoutOutcome ?? DEFAULT_REVIEW_TIMEOUT_OUTCOME });
        return true;
      }
      case 'PaymentReviewed': {
        const data = event.data as ReviewedData;
        Object.assign(row, { review_decision: data.decision, reviewed_by: data.reviewerId ?? null, reviewed_at: at });
        return true;
      }
      case 'PaymentDeclined': {
        const data = event.data as PaymentDeclinedData;
        Object.assign(row, { status: 'declined', decline_stage: data.stage, decline_reason: data.reasonCode, decided_at: row.decided_at ?? at });
        // A review that timed out into a decline records no PaymentReviewed: the decline says who decided.
        if (data.stage === 'review' && data.reasonCode === REVIEW_TIMEOUT_REVIEWER) {
          Object.assign(row, { review_decision: 'decline', reviewed_by: REVIEW_TIMEOUT_REVIEWER, reviewed_at: at });
        }
        return true;
      }
      case 'PaymentAuthorized': {
        const data = event.data as PaymentAuthorizedData;
        Object.assign(row, { status: 'authorized', hold_id: data.holdId, authorized_minor: data.amount.amountMinor, authorized_at: at, decided_at: row.decided_at ?? at });
        return true;
      }
      case 'PaymentCaptureStarted': {
        const data = event.data as CaptureStartedData;
        Object.assign(row, { status: 'capturing', hold_id: data.holdId, capture_started_at: at, capture_command_id: data.commandId ?? null });
        return true;
      }
      case 'PaymentCaptured': {
        const data = event.data as PaymentCapturedData;
        Object.assign(row, { hold_id: data.holdId, captured_minor: data.amount.amountMinor, refunded_minor: '0', pending_refund_minor: '0', captured_at: at });
        row.status = capturedStatus(row);
        return true;
      }
      case 'PaymentSettled': {
        // Version 2 on the settlement batch streams (when the batch closed); version 1 on old payment
        // streams (a batch of one per capture). Either settles a captured payment, once.
        if (!CAPTURED_STATUSES.has(status) || row.settled_at !== null) return false;
        const batchId = event.category === 'settlement' ? (event.data as PaymentSettledV2Data).settlementBatchId : null;
        Object.assign(row, { settled_at: at, settlement_batch_id: batchId });
        return true;
      }
      case 'PaymentVoidStarted': {
        const data = event.data as VoidStartedData;
        Object.assign(row, { status: 'voiding', hold_id: data.holdId, void_started_at: at, void_command_id: data.commandId });
        return true;
      }
      case 'PaymentVoided': {
        const data = event.data as PaymentVoidedData;
        Object.assign(row, { status: 'voided', hold_id: data.holdId, voided_at: at });
        return true;
      }
      case 'PaymentExpired': {
        const data = event.data as PaymentExpiredData;
        Object.assign(row, { status: 'expired', hold_id: data.holdId, expiry_reason: data.reasonCode, expired_at: at });
        return true;
      }
      case 'PaymentFailed': {
        const data = event.data as PaymentFailedData;
        Object.assign(row, { status: 'failed', failure_reason: data.reasonCode, decided_at: row.decided_at ?? at });
        return true;
      }
      case 'PaymentRefundStarted': {
        if (!CAPTURED_STATUSES.has(status)) return false;
        const data = event.data as RefundStartedData;
        Object.assign(row, { pending_refund_minor: (minor(row.pending_refund_minor) + minor(data.amount.amountMinor)).toString(), refund_started_at: row.refund_started_at ?? at });
        row.status = capturedStatus(row);
        return true;
      }
      case 'PaymentRefunded':
      case 'RefundFailed': {
        const data = event.data as PaymentRefundedData | RefundFailedData;
        const amount = minor(data.amount.amountMinor);
        // Only an accepted refund is answered (evolveRefund ignores the rest).
        if (!CAPTURED_STATUSES.has(status) || minor(row.pending_refund_minor) < amount) return false;
        row.pending_refund_minor = (minor(row.pending_refund_minor) - amount).toString();
        if (event.type === 'PaymentRefunded') {
          Object.assign(row, { refunded_minor: (minor(row.refunded_minor) + amount).toString(), refund_count: (row.refund_count as number) + 1, refunded_at: at });
        } else {
          row.refund_failure_reason = (data as RefundFailedData).reasonCode;
        }
        row.status = capturedStatus(row);
        return true;
      }
      case 'PaymentCommandRejected': {
        // A capture the ledger or connector refused gives the payment back its authorization, and so
        // does a refused void; other refusals changed nothing (a channel's repeat of the id in flight
        // with another body included: the aggregate's own rule).
        const data = event.data as PaymentCommandRejectedData;
        if (!refusalEndsCommandInFlight(data)) return false;
        if (status === 'capturing' && data.commandId === row.capture_command_id) {
          Object.assign(row, { status: 'authorized', capture_command_id: null });
          return true;
        }
        if (status === 'voiding' && data.commandId === row.void_command_id) {
          Object.assign(row, { status: 'authorized', void_command_id: null });
          return true;
        }
        return false;
      }
      default:
        // Connector attempts, and event types this read model does not know (yet): nothing to show.
        return false;
    }
  }

  private requested(event: RecordedEvent): void {
    const data = event.data as PaymentRequestedData;
    // The stream's first event: a second sight of it would be a double apply.
    if (this.payments.has(data.paymentId)) return;
    const risk = this.assessments.get(data.paymentId);
    const row = Object.fromEntries(PAYMENT_COLUMNS.map(([name]) => [name, null])) as PaymentRow;
    Object.assign(row, {
      payment_id: data.paymentId, status: 'requested', channel: data.channel, method: data.method, merchant_id: data.merchantId,
      merchant_account_id: data.merchantAccountId, payer_account_id: data.payerAccountId, capture_mode: data.captureMode ?? 'automatic',
      amount_minor: data.amount.amountMinor, currency: data.amount.currency, refunded_minor: '0', pending_refund_minor: '0', refund_count: 0,
      risk_score: risk?.score ?? null, risk_decision: risk?.decision ?? null, risk_reasons: risk?.reasons ?? null,
      requested_at: data.requestedAt, updated_at: event.recordedAt, last_position: event.globalPosition.toString(),
    });
    this.payments.set(data.paymentId, row);
    this.changedPayments.add(data.paymentId);
  }

  private riskAssessed(data: RiskAssessedData, at: Date): void {
    // The first assessment counts (risk assesses a payment once; a repeat is a double apply).
    if (this.assessments.has(data.paymentId)) return;
    const assessment: RiskAssessment = { payment_id: data.paymentId, score: data.score, decision: data.decision, reasons: data.reasons, assessed_at: at };
    this.assessments.set(data.paymentId, assessment);
    this.newAssessments.add(data.paymentId);
    const row = this.payments.get(data.paymentId);
    if (row === undefined) return;
    Object.assign(row, { risk_score: data.score, risk_decision: data.decision, risk_reasons: data.reasons });
    this.changedPayments.add(data.paymentId);
  }
}

export async function projectPayments(events: readonly RecordedEvent[], client: PoolClient, tables: Record<PaymentsTable, string>): Promise<void> {
  await projectWithFold(new PaymentsFold(), events, client, tables);
}

function jsonText(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
