import type { PaymentDeclinedData, PaymentRequestedData, RiskAssessedData } from '@clearline/contracts';
import type { RecordedEvent } from '@clearline/event-store';
import type { PoolClient } from 'pg';
import { writeCounters, writeRows, type ColumnSpec } from './bulk-write.js';
import { projectWithFold, type ReadModelFold, type WriteMode } from './read-model-fold.js';

/**
 * Read model 'payment-flow': P(t) / R(t) per bucket, decline reasons, the risk score distribution
 * and per-payment end-to-end latency (migration 0003). A batch is folded in memory, then written
 * with one statement per table: counters are sums, so any split of the same events into batches
 * gives the same rows (a rebuild in batches of 10,000 equals the live projection's batches of 500).
 */

export const PAYMENT_FLOW_TABLES = ['payment_outcomes', 'payment_flow', 'decline_reasons', 'risk_score_distribution'] as const;
export type PaymentFlowTable = (typeof PAYMENT_FLOW_TABLES)[number];

export const GRANULARITIES = ['minute', 'hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
const GRANULARITY_MS: Record<Granularity, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

interface PaymentOutcome {
  paymentId: string;
  channel: string;
  merchantId: string;
  currency: string;
  captureMode: string;
  amountMinor: string;
  requestedAt: Date;
  reviewed: boolean;
  outcome: string | null;
  resultAt: Date | null;
  completedAt: Date | null;
  latencyMs: number | null;
}

interface FlowCounters {
  requests: number;
  requestedMinor: bigint;
  approved: number;
  approvedMinor: bigint;
  declined: number;
  failed: number;
  inReview: number;
}

/** The payment events this read model folds; the rest of the payment stream changes none of its rows. */
const PAYMENT_EVENT_TYPES = new Set(['PaymentRequested', 'PaymentInReview', 'PaymentAuthorized', 'PaymentCaptured', 'PaymentDeclined', 'PaymentFailed']);

export class PaymentFlowFold implements ReadModelFold<PaymentFlowTable> {
  private readonly outcomes = new Map<string, PaymentOutcome>();
  private readonly changed = new Set<string>();
  /** Counters are what the fold's events add, whatever the tables already hold. */
  private readonly flow = new Map<string, { key: [Granularity, Date, string, string, string]; counters: FlowCounters }>();
  private readonly declines = new Map<string, { key: [string, string, string, string, string, string]; declines: number }>();
  private readonly scores = new Map<string, { key: [string, string, number]; assessments: number }>();

  get heldRows(): number {
    return this.outcomes.size + this.flow.size + this.declines.size + this.scores.size;
  }

  /** Loads the rows of payments `events` continue whose PaymentRequested the fold has not seen. */
  async load(events: readonly RecordedEvent[], client: PoolClient, tables: Record<PaymentFlowTable, string>): Promise<void> {
    const requestedHere = new Set<string>();
    const missing = new Set<string>();
    for (const event of events) {
      if (event.category !== 'payment' || !PAYMENT_EVENT_TYPES.has(event.type)) continue;
      const paymentId = (event.data as { paymentId: string }).paymentId;
      if (event.type === 'PaymentRequested') requestedHere.add(paymentId);
      else if (!requestedHere.has(paymentId) && !this.outcomes.has(paymentId)) missing.add(paymentId);
    }
    if (missing.size === 0) return;
    const { rows } = await client.query(
      `select payment_id, channel, merchant_id, currency, capture_mode, amount_minor, requested_at, reviewed, outcome, result_at, completed_at, latency_ms
       from ${tables.payment_outcomes} where payment_id = any($1::uuid[])`,
      [[...missing]],
    );
    for (const row of rows) {
      this.outcomes.set(row.payment_id, {
        paymentId: row.payment_id, channel: row.channel, merchantId: row.merchant_id, currency: row.currency, captureMode: row.capture_mode,
        amountMinor: row.amount_minor, requestedAt: row.requested_at, reviewed: row.reviewed, outcome: row.outcome, resultAt: row.result_at,
        completedAt: row.completed_at, latencyMs: row.latency_ms,
      });
    }
  }

  async write(client: PoolClient, tables: Record<PaymentFlowTable, string>, mode: WriteMode): Promise<void> {
    const outcomes = [...this.changed].map((paymentId) => {
      const row = this.outcomes.get(paymentId) as PaymentOutcome;
      return [row.paymentId, row.channel, row.merchantId, row.currency, row.captureMode, row.amountMinor, row.requestedAt, row.reviewed, row.outcome, row.resultAt, row.completedAt, row.latencyMs];
    });
    const flow = [...this.flow.values()].map(({ key, counters }) => [
      ...key, counters.requests, counters.requestedMinor.toString(), counters.approved, counters.approvedMinor.toString(), counters.declined, counters.failed, counters.inReview,
    ]);
    const declines = [...this.declines.values()].map(({ key, declines }) => [...key, declines]);
    const scores = [...this.scores.values()].map(({ key, assessments }) => [...key, assessments]);
    // Sorted by key, so concurrent writers (a live batch and a rebuild's swap) lock rows in one order.
    await writeRows(client, mode, tables.payment_outcomes, ['payment_id'], OUTCOME_COLUMNS, sortedByFirstColumns(outcomes, 1));
    await writeCounters(client, mode, tables.payment_flow, ['granularity', 'bucket_start', 'channel', 'merchant_id', 'currency'], FLOW_COLUMNS, sortedByFirstColumns(flow, 5));
    await writeCounters(client, mode, tables.decline_reasons, ['day', 'channel', 'merchant_id', 'currency', 'stage', 'reason_code'], DECLINE_COLUMNS, sortedByFirstColumns(declines, 6));
    await writeCounters(client, mode, tables.risk_score_distribution, ['day', 'decision', 'score'], SCORE_COLUMNS, sortedByFirstColumns(scores, 3));
  }

  apply(event: RecordedEvent): void {
    if (event.type !== 'RiskAssessed' && (event.category !== 'payment' || !PAYMENT_EVENT_TYPES.has(event.type))) return;
    if (event.type === 'RiskAssessed') return this.riskAssessed(event.data as RiskAssessedData, event.recordedAt);
    const paymentId = (event.data as { paymentId: string }).paymentId;
    if (event.type === 'PaymentRequested') return this.requested(event.data as PaymentRequestedData, event.recordedAt);
    const payment = this.outcomes.get(paymentId);
    // PaymentRequested opens every payment stream, so a payment event without its row is a read
    // model reset without its subscription (a programmer error): fail the batch rather than guess.
    if (payment === undefined) throw new Error(`payment-flow: ${event.type} at position ${event.globalPosition} for unknown payment ${paymentId}`);
    const at = event.recordedAt;
    switch (event.type) {
      case 'PaymentInReview':
        if (payment.reviewed) return;
        payment.reviewed = true;
        this.count(payment, at, (counters) => { counters.inReview += 1; });
        break;
      case 'PaymentAuthorized':
        this.decide(payment, 'approved', at);
        if (payment.captureMode === 'manual') this.complete(payment, at);
        break;
      case 'PaymentCaptured':
        this.complete(payment, at);
        break;
      case 'PaymentDeclined': {
        const data = event.data as PaymentDeclinedData;
        if (!this.decide(payment, 'declined', at)) return;
        this.complete(payment, at);
        const day = dayOf(at);
        const key = [day, payment.channel, payment.merchantId, payment.currency, data.stage, data.reasonCode] as [string, string, string, string, string, string];
        const entry = this.declines.get(key.join('|')) ?? { key, declines: 0 };
        entry.declines += 1;
        this.declines.set(key.join('|'), entry);
        break;
      }
      case 'PaymentFailed':
        this.decide(payment, 'failed', at);
        this.complete(payment, at);
        break;
      default:
        return;
    }
    this.changed.add(paymentId);
  }

  private requested(data: PaymentRequestedData, at: Date): void {
    // At most once per payment: the stream's first event (a second sight would be a double apply).
    if (this.outcomes.has(data.paymentId)) return;
    const payment: PaymentOutcome = {
      paymentId: data.paymentId, channel: data.channel, merchantId: data.merchantId, currency: data.amount.currency,
      captureMode: data.captureMode ?? 'automatic', amountMinor: data.amount.amountMinor, requestedAt: at, reviewed: false,
      outcome: null, resultAt: null, completedAt: null, latencyMs: null,
    };
    this.outcomes.set(data.paymentId, payment);
    this.changed.add(data.paymentId);
    this.count(payment, at, (counters) => {
      counters.requests += 1;
      counters.requestedMinor += BigInt(data.amount.amountMinor);
    });
  }

  /** Records the first decision only (an approval followed by a failed capture stays approved in R(t)). */
  private decide(payment: PaymentOutcome, outcome: 'approved' | 'declined' | 'failed', at: Date): boolean {
    if (payment.outcome !== null) return false;
    payment.outcome = outcome;
    payment.resultAt = at;
    this.count(payment, at, (counters) => {
      if (outcome === 'approved') {
        counters.approved += 1;
        counters.approvedMinor += BigInt(payment.amountMinor);
      } else if (outcome === 'declined') counters.declined += 1;
      else counters.failed += 1;
    });
    return true;
  }

  private complete(payment: PaymentOutcome, at: Date): void {
    if (payment.completedAt !== null) return;
    payment.completedAt = at;
    // Recorded times are transaction starts: a later event's transaction may have begun first.
    payment.latencyMs = Math.max(0, at.getTime() - payment.requestedAt.getTime());
  }

  private count(payment: PaymentOutcome, at: Date, change: (counters: FlowCounters) => void): void {
    for (const granularity of GRANULARITIES) {
      const bucketStart = new Date(Math.floor(at.getTime() / GRANULARITY_MS[granularity]) * GRANULARITY_MS[granularity]);
      const mapKey = `${granularity}|${bucketStart.getTime()}|${payment.channel}|${payment.merchantId}|${payment.currency}`;
      let entry = this.flow.get(mapKey);
      if (entry === undefined) {
        entry = { key: [granularity, bucketStart, payment.channel, payment.merchantId, payment.currency], counters: { requests: 0, requestedMinor: 0n, approved: 0, approvedMinor: 0n, declined: 0, failed: 0, inReview: 0 } };
        this.flow.set(mapKey, entry);
      }
      change(entry.counters);
    }
  }

  private riskAssessed(data: RiskAssessedData, at: Date): void {
    const key: [string, string, number] = [dayOf(at), data.decision, data.score];
    const mapKey = key.join('|');
    const entry = this.scores.get(mapKey) ?? { key, assessments: 0 };
    entry.assessments += 1;
    this.scores.set(mapKey, entry);
  }
}

function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

const OUTCOME_COLUMNS: ColumnSpec[] = [
  { name: 'payment_id', arrayType: 'uuid[]' }, { name: 'channel', arrayType: 'text[]' }, { name: 'merchant_id', arrayType: 'text[]' },
  { name: 'currency', arrayType: 'text[]' }, { name: 'capture_mode', arrayType: 'text[]' }, { name: 'amount_minor', arrayType: 'numeric[]' },
  { name: 'requested_at', arrayType: 'timestamptz[]' }, { name: 'reviewed', arrayType: 'boolean[]' }, { name: 'outcome', arrayType: 'text[]' },
  { name: 'result_at', arrayType: 'timestamptz[]' }, { name: 'completed_at', arrayType: 'timestamptz[]' }, { name: 'latency_ms', arrayType: 'integer[]' },
];
const FLOW_COLUMNS: ColumnSpec[] = [
  { name: 'granularity', arrayType: 'text[]' }, { name: 'bucket_start', arrayType: 'timestamptz[]' }, { name: 'channel', arrayType: 'text[]' },
  { name: 'merchant_id', arrayType: 'text[]' }, { name: 'currency', arrayType: 'text[]' }, { name: 'requests', arrayType: 'bigint[]' },
  { name: 'requested_minor', arrayType: 'numeric[]' }, { name: 'approved', arrayType: 'bigint[]' }, { name: 'approved_minor', arrayType: 'numeric[]' },
  { name: 'declined', arrayType: 'bigint[]' }, { name: 'failed', arrayType: 'bigint[]' }, { name: 'in_review', arrayType: 'bigint[]' },
];
const DECLINE_COLUMNS: ColumnSpec[] = [
  { name: 'day', arrayType: 'date[]' }, { name: 'channel', arrayType: 'text[]' }, { name: 'merchant_id', arrayType: 'text[]' },
  { name: 'currency', arrayType: 'text[]' }, { name: 'stage', arrayType: 'text[]' }, { name: 'reason_code', arrayType: 'text[]' },
  { name: 'declines', arrayType: 'bigint[]' },
];
const SCORE_COLUMNS: ColumnSpec[] = [
  { name: 'day', arrayType: 'date[]' }, { name: 'decision', arrayType: 'text[]' }, { name: 'score', arrayType: 'smallint[]' }, { name: 'assessments', arrayType: 'bigint[]' },
];

export async function projectPaymentFlow(events: readonly RecordedEvent[], client: PoolClient, tables: Record<PaymentFlowTable, string>): Promise<void> {
  await projectWithFold(new PaymentFlowFold(), events, client, tables);
}

/** The rows ordered by their first `count` columns, each compared as text (its key computed once per row). */
function sortedByFirstColumns(rows: unknown[][], count: number): unknown[][] {
  const text = (value: unknown): string => (value instanceof Date ? value.toISOString() : String(value));
  const keyed = rows.map((row) => ({ row, key: row.slice(0, count).map(text) }));
  keyed.sort((left, right) => {
    for (let index = 0; index < count; index += 1) {
      const a = left.key[index] as string;
      const b = right.key[index] as string;
      if (a !== b) return a < b ? -1 : 1;
    }
    return 0;
  });
  return keyed.map((entry) => entry.row);
}
