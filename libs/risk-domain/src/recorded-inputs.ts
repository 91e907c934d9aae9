import type { RiskDecision } from '@clearline/contracts';
import type { HistoricalPayment } from './backtest.js';
import { VELOCITY_ENTITIES, type EntityVelocity, type RiskFeatures, type RiskPayment, type VelocityEntity } from './features.js';
import type { ManagedListHit } from './managed-lists.js';

/**
 * What a decision used, recorded beside `RiskAssessed` in the stream `risk-<paymentId>` as the
 * internal event `RiskDecisionInputsRecorded` (internal: the outbox relay publishes contracts only).
 * With it a backtest replays history from the event store through a candidate exactly as the live
 * scorer saw it, including features that Redis has long forgotten. It holds no card data: the
 * payment fields are those of PaymentRequested (the card fingerprint is a token), features are counts,
 * sums and flags. Amounts are strings of minor units, as everywhere in events.
 */
export const RISK_DECISION_INPUTS_RECORDED = 'RiskDecisionInputsRecorded';

type Stringified<T> = { [K in keyof T]: T[K] extends bigint ? string : T[K] extends bigint | null ? string | null : T[K] };

export type RecordedPayment = Stringified<RiskPayment>;
export type RecordedWindow = { count: number; amountMinor: string };
export interface RecordedFeatures extends Omit<RiskFeatures, 'velocity' | 'payerHistory'> {
  velocity: Record<VelocityEntity, Record<string, RecordedWindow> | null>;
  payerHistory: Stringified<RiskFeatures['payerHistory']>;
}

export interface RiskDecisionInputsRecordedData {
  paymentId: string;
  payment: RecordedPayment;
  /** Null when the feature store was unavailable (the fail policy then applied). */
  features: RecordedFeatures | null;
  /** The managed lists the payment was on when decided (`block:deviceId`). */
  listHits: ManagedListHit[];
}

export function recordDecisionInputs(payment: RiskPayment, features: RiskFeatures | null, listHits: ManagedListHit[]): RiskDecisionInputsRecordedData {
  return { paymentId: payment.paymentId, payment: { ...payment, amountMinor: payment.amountMinor.toString() }, features: features && recordFeatures(features), listHits };
}

function recordFeatures(features: RiskFeatures): RecordedFeatures {
  const velocity = Object.fromEntries(VELOCITY_ENTITIES.map((entity) => {
    const windows = features.velocity[entity];
    return [entity, windows === null ? null : Object.fromEntries(Object.entries(windows).map(([name, totals]) => [name, { count: totals.count, amountMinor: totals.amountMinor.toString() }]))];
  })) as RecordedFeatures['velocity'];
  const history = features.payerHistory;
  return {
    ...features,
    velocity,
    payerHistory: {
      previousCount: history.previousCount,
      meanMinor: history.meanMinor?.toString() ?? null,
      standardDeviationMinor: history.standardDeviationMinor?.toString() ?? null,
    },
  };
}

export function restorePayment(recorded: RecordedPayment): RiskPayment {
  return { ...recorded, amountMinor: BigInt(recorded.amountMinor) };
}

export function restoreFeatures(recorded: RecordedFeatures): RiskFeatures {
  const velocity = Object.fromEntries(VELOCITY_ENTITIES.map((entity) => {
    const windows = recorded.velocity[entity];
    return [entity, windows === null ? null : Object.fromEntries(Object.entries(windows).map(([name, totals]) => [name, { count: totals.count, amountMinor: BigInt(totals.amountMinor) }])) as unknown as EntityVelocity];
  })) as Record<VelocityEntity, EntityVelocity | null>;
  const history = recorded.payerHistory;
  return {
    ...recorded,
    velocity,
    payerHistory: {
      previousCount: history.previousCount,
      meanMinor: history.meanMinor === null ? null : BigInt(history.meanMinor),
      standardDeviationMinor: history.standardDeviationMinor === null ? null : BigInt(history.standardDeviationMinor),
    },
  };
}

/** One payment of history for `backtest`, from its recorded inputs and its live RiskAssessed. */
export function historicalPaymentOf(
  inputs: RiskDecisionInputsRecordedData,
  live: { decision: RiskDecision; score: number },
  fraud: boolean | null,
): HistoricalPayment & { listHits: ManagedListHit[] } {
  return {
    input: { payment: restorePayment(inputs.payment), features: inputs.features && restoreFeatures(inputs.features) },
    live: { outcome: live.decision, score: live.score },
    fraud,
    listHits: inputs.listHits,
  };
}
