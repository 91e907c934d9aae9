import { RISK_DECISIONS, type RiskDecision } from '@clearline/contracts';
import { decideRisk, type RiskDecisionInput, type RiskScorer } from './decide-risk.js';
import { listsFromHits } from './managed-lists.js';

export interface HistoricalPayment {
  input: RiskDecisionInput;
  /** What was decided when the payment happened. */
  live: { outcome: RiskDecision; score: number };
  /** True when the payment proved fraudulent, false when known good, null when nobody knows. */
  fraud: boolean | null;
  /**
   * The managed lists the payment was on when decided (`block:deviceId`), recorded with the decision.
   * When present they replace the candidate's lists, so list entries count as they did at the time.
   */
  listHits?: readonly string[];
}

export type Transition = `${RiskDecision}->${RiskDecision}`;

export interface OutcomeCounts {
  approve: number;
  review: number;
  decline: number;
}

export interface LabelledCounts {
  /** Fraud stopped: declined or sent to review. */
  fraudCaught: number;
  fraudDeclined: number;
  /** Fraud approved. */
  fraudMissed: number;
  /** Good payments declined: lost sales. */
  goodDeclined: number;
  /** Good payments sent to review: analyst work and delay. */
  goodReviewed: number;
}

export interface ChangedPayment {
  paymentId: string;
  live: RiskDecision;
  candidate: RiskDecision;
  fraud: boolean | null;
  candidateReasons: string[];
}

export interface BacktestReport {
  payments: number;
  changed: number;
  /** Every live -> candidate pair, unchanged ones included. */
  transitions: Record<Transition, number>;
  live: OutcomeCounts;
  candidate: OutcomeCounts;
  labelled: { fraud: number; good: number; unknown: number };
  liveLabelled: LabelledCounts;
  candidateLabelled: LabelledCounts;
  /** How often each candidate rule decided. */
  candidateRulesFired: Record<string, number>;
  /** The first changed payments, for a look at why. */
  examples: ChangedPayment[];
}

/** Bound on the examples a report carries. */
export const MAX_BACKTEST_EXAMPLES = 20;

/**
 * Replays historical payments through a candidate rule set and model and reports what would change
 * against the live decisions: which way decisions move, fraud caught and good payments lost. Pure:
 * live decisions are untouched, so a candidate can be tried on any history as often as wanted.
 */
export function backtest(history: readonly HistoricalPayment[], candidate: RiskScorer): BacktestReport {
  const transitions = Object.fromEntries(RISK_DECISIONS.flatMap((from) => RISK_DECISIONS.map((to) => [`${from}->${to}`, 0]))) as Record<Transition, number>;
  const live = emptyOutcomes();
  const candidateOutcomes = emptyOutcomes();
  const labelled = { fraud: 0, good: 0, unknown: 0 };
  const liveLabelled = emptyLabelled();
  const candidateLabelled = emptyLabelled();
  const candidateRulesFired: Record<string, number> = {};
  const examples: ChangedPayment[] = [];
  let changed = 0;
  for (const payment of history) {
    const decision = decideRisk(payment.input, payment.listHits ? { ...candidate, lists: listsFromHits(payment.listHits) } : candidate);
    transitions[`${payment.live.outcome}->${decision.outcome}`] += 1;
    live[payment.live.outcome] += 1;
    candidateOutcomes[decision.outcome] += 1;
    if (decision.ruleFired) candidateRulesFired[decision.ruleFired.id] = (candidateRulesFired[decision.ruleFired.id] ?? 0) + 1;
    if (payment.fraud === null) labelled.unknown += 1;
    else {
      labelled[payment.fraud ? 'fraud' : 'good'] += 1;
      countLabelled(liveLabelled, payment.fraud, payment.live.outcome);
      countLabelled(candidateLabelled, payment.fraud, decision.outcome);
    }
    if (decision.outcome !== payment.live.outcome) {
      changed += 1;
      if (examples.length < MAX_BACKTEST_EXAMPLES) {
        examples.push({ paymentId: payment.input.payment.paymentId, live: payment.live.outcome, candidate: decision.outcome, fraud: payment.fraud, candidateReasons: decision.reasons });
      }
    }
  }
  return { payments: history.length, changed, transitions, live, candidate: candidateOutcomes, labelled, liveLabelled, candidateLabelled, candidateRulesFired, examples };
}

function countLabelled(counts: LabelledCounts, fraud: boolean, outcome: RiskDecision): void {
  if (fraud) {
    if (outcome === 'approve') counts.fraudMissed += 1;
    else counts.fraudCaught += 1;
    if (outcome === 'decline') counts.fraudDeclined += 1;
  } else if (outcome === 'decline') counts.goodDeclined += 1;
  else if (outcome === 'review') counts.goodReviewed += 1;
}

function emptyOutcomes(): OutcomeCounts {
  return { approve: 0, review: 0, decline: 0 };
}

function emptyLabelled(): LabelledCounts {
  return { fraudCaught: 0, fraudDeclined: 0, fraudMissed: 0, goodDeclined: 0, goodReviewed: 0 };
}
