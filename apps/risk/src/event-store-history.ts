import type { RiskAssessedData } from '@clearline/contracts';
import { PostgresEventStore, START } from '@clearline/event-store';
import { historicalPaymentOf, RISK_DECISION_INPUTS_RECORDED, type HistoricalPayment, type RiskDecisionInputsRecordedData } from '@clearline/risk-domain';
import type { Pool } from 'pg';

export interface EventStoreHistoryOptions {
  /** Only payments decided at or after this time. */
  since?: Date;
  /** Bound on the payments held in memory for one backtest. Default 1,000,000. */
  maxPayments?: number;
  /** Events per read. Default 5,000. */
  pageSize?: number;
}

export interface EventStoreHistory {
  payments: HistoricalPayment[];
  /** Decisions recorded before inputs were (RiskAssessed without RiskDecisionInputsRecorded): not replayable. */
  withoutInputs: number;
  /** True when maxPayments stopped the read early. */
  truncated: boolean;
}

/**
 * Reads past decisions from the event store for a backtest: each `risk-<paymentId>` stream holds the
 * live RiskAssessed and the inputs it was decided on (recorded in the same append), and
 * risk.fraud_labels says which payments later proved fraudulent or good. Read-only: nothing live
 * is touched.
 */
export async function readHistoryFromEventStore(store: PostgresEventStore, pool: Pool, options: EventStoreHistoryOptions = {}): Promise<EventStoreHistory> {
  const maxPayments = options.maxPayments ?? 1_000_000;
  const sinceMs = options.since?.getTime() ?? Number.NEGATIVE_INFINITY;
  const assessed = new Map<string, RiskAssessedData>();
  const inputs = new Map<string, RiskDecisionInputsRecordedData>();
  let after = START;
  let truncated = false;
  for (;;) {
    const { events, lastPosition } = await store.readAll({ after, maxCount: options.pageSize ?? 5_000, categories: ['risk'] });
    for (const event of events) {
      if (event.recordedAt.getTime() < sinceMs) continue;
      if (event.type === 'RiskAssessed') assessed.set((event.data as RiskAssessedData).paymentId, event.data as RiskAssessedData);
      else if (event.type === RISK_DECISION_INPUTS_RECORDED) inputs.set((event.data as RiskDecisionInputsRecordedData).paymentId, event.data as RiskDecisionInputsRecordedData);
    }
    after = lastPosition;
    if (assessed.size >= maxPayments) {
      truncated = true;
      break;
    }
    if (events.length === 0) break;
  }
  const labels = await fraudLabels(pool, [...inputs.keys()]);
  const payments: HistoricalPayment[] = [];
  let withoutInputs = 0;
  for (const [paymentId, live] of assessed) {
    const recorded = inputs.get(paymentId);
    if (!recorded) withoutInputs += 1;
    else if (payments.length < maxPayments) payments.push(historicalPaymentOf(recorded, live, labels.get(paymentId) ?? null));
  }
  return { payments, withoutInputs, truncated };
}

async function fraudLabels(pool: Pool, paymentIds: string[]): Promise<Map<string, boolean>> {
  const labels = new Map<string, boolean>();
  const chunk = 10_000;
  for (let index = 0; index < paymentIds.length; index += chunk) {
    const { rows } = await pool.query<{ payment_id: string; fraud: boolean }>(
      'select payment_id, fraud from risk.fraud_labels where payment_id = any($1)', [paymentIds.slice(index, index + chunk)],
    );
    for (const row of rows) labels.set(row.payment_id, row.fraud);
  }
  return labels;
}
