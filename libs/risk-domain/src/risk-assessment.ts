import type { RiskDecision } from '@clearline/contracts';

/**
 * Risk scoring for the walking skeleton: transparent rules over a few features, each adding points
 * and a reason code; the score is capped at 100 and thresholds turn it into a decision. The trained
 * model, rule files and richer features arrive with the risk issue. Pure: features come computed.
 */
export interface RiskFeatures {
  amountMinor: bigint;
  currency: string;
  /** Payments by the same payer in the window, this one included. */
  payerPaymentsLastMinute: number;
  payerPaymentsLastHour: number;
}

export interface RiskRuleSet {
  version: string;
  /** Amounts above this, per currency in minor units, add `amount_above_limit`. */
  largeAmountMinorByCurrency: Readonly<Record<string, bigint>>;
  defaultLargeAmountMinor: bigint;
  payerPerMinuteLimit: number;
  payerPerHourLimit: number;
  reviewFromScore: number;
  declineFromScore: number;
}

export const SKELETON_RULE_SET: RiskRuleSet = {
  version: 'skeleton-1',
  largeAmountMinorByCurrency: { JPY: 1_000_000n, KRW: 10_000_000n },
  defaultLargeAmountMinor: 500_000n,
  payerPerMinuteLimit: 10,
  payerPerHourLimit: 100,
  reviewFromScore: 50,
  declineFromScore: 80,
};

export interface RiskAssessment {
  score: number;
  decision: RiskDecision;
  reasons: string[];
  ruleSetVersion: string;
}

interface Finding {
  reason: string;
  points: number;
}

export function assessRisk(features: RiskFeatures, rules: RiskRuleSet = SKELETON_RULE_SET): RiskAssessment {
  const findings = ruleFindings(features, rules).sort((left, right) => right.points - left.points);
  const score = Math.min(100, findings.reduce((total, finding) => total + finding.points, 0));
  return { score, decision: decisionFor(score, rules), reasons: findings.map((finding) => finding.reason), ruleSetVersion: rules.version };
}

function ruleFindings(features: RiskFeatures, rules: RiskRuleSet): Finding[] {
  const findings: Finding[] = [];
  const largeAmount = rules.largeAmountMinorByCurrency[features.currency] ?? rules.defaultLargeAmountMinor;
  if (features.amountMinor > largeAmount) findings.push({ reason: 'amount_above_limit', points: 40 });
  if (features.payerPaymentsLastMinute > rules.payerPerMinuteLimit) findings.push({ reason: 'velocity_payer_1m', points: 50 });
  if (features.payerPaymentsLastHour > rules.payerPerHourLimit) findings.push({ reason: 'velocity_payer_1h', points: 30 });
  return findings;
}

function decisionFor(score: number, rules: RiskRuleSet): RiskDecision {
  if (score >= rules.declineFromScore) return 'decline';
  if (score >= rules.reviewFromScore) return 'review';
  return 'approve';
}
