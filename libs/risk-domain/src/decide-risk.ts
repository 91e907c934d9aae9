import type { ReviewTimeoutOutcome, RiskDecision } from '@clearline/contracts';
import { largeAmountLimitMinor } from './amount-limits.js';
import type { RiskFeatures, RiskPayment } from './features.js';
import { managedListMatch, NO_MANAGED_LISTS, type ManagedLists } from './managed-lists.js';
import { scoreWithModel, type ModelScore, type RiskModel } from './model.js';
import { RULE_FEATURES, type RuleContext, type RuleValue } from './rule-features.js';
import { rulesForMerchant, type Condition, type EffectiveRules, type FailPolicy, type Rule, type RuleAction, type RuleSet } from './rule-set.js';

/** What was missing when a payment was decided. */
export const UNAVAILABLE_PARTS = ['features', 'model'] as const;
export type UnavailablePart = (typeof UNAVAILABLE_PARTS)[number];

/** How many model inputs a decision names as reasons. */
export const MAX_REASON_FEATURES = 3;

export interface RiskDecisionInput {
  payment: RiskPayment;
  /** Null when the feature store (Redis) could not answer. */
  features: RiskFeatures | null;
}

export interface RiskScorer {
  ruleSet: RuleSet;
  /** Null when the model could not be loaded. */
  model: RiskModel | null;
  /** The analysts' allow and block lists; none when absent. */
  lists?: ManagedLists;
}

export interface FailPolicyRecord {
  policy: FailPolicy;
  unavailable: UnavailablePart[];
  /** True when the policy, not a rule or the score, decided the outcome. */
  applied: boolean;
}

export interface RiskDecisionRecord {
  /** 0-100: the model's score; without a model, 0 / 50 / 100 for approve / review / decline. */
  score: number;
  outcome: RiskDecision;
  ruleFired: { id: string; action: RuleAction } | null;
  /** Reason codes, most important first: the rule that fired, a fail-policy code, then top model inputs. */
  reasons: string[];
  /** The model inputs that pushed the score up most by being present or high. */
  topFeatures: { feature: string; contribution: number }[];
  ruleSetVersion: string;
  modelVersion: string | null;
  /** Set whenever features or the model were unavailable. */
  failPolicy: FailPolicyRecord | null;
  /** With a review outcome: what the payment becomes if no analyst decides in time (the merchant's rule). */
  reviewTimeoutOutcome: ReviewTimeoutOutcome | null;
}

const OUTCOME_OF_ACTION: Record<RuleAction, RiskDecision> = { allow: 'approve', block: 'decline', review: 'review' };
const PHASES: readonly RuleAction[] = ['allow', 'block', 'review'];
const FALLBACK_SCORE: Record<RiskDecision, number> = { approve: 0, review: 50, decline: 100 };

/**
 * Decides one payment: the model scores it (when it and the features are available), then allow,
 * block and review rules run in that order and the first match decides; if none matches, the score
 * meets the thresholds; without a score, the merchant's fail policy decides and says so.
 */
export function decideRisk(input: RiskDecisionInput, scorer: RiskScorer): RiskDecisionRecord {
  const { payment, features } = input;
  const rules = rulesForMerchant(scorer.ruleSet, payment.merchantId);
  const modelScore = features && scorer.model ? scoreWithModel(scorer.model, payment, features) : null;
  const context: RuleContext = {
    payment, features, score: modelScore?.score ?? null, largeAmountLimitMinor: largeAmountLimitMinor(payment.currency, rules.largeAmountMajor),
  };
  const unavailable = UNAVAILABLE_PARTS.filter((part) => (part === 'features' ? features === null : scorer.model === null));
  const fired = firstMatchingRule(rules, context, scorer.lists ?? NO_MANAGED_LISTS);
  const outcome = fired ? OUTCOME_OF_ACTION[fired.action] : modelScore ? outcomeForScore(modelScore.score, rules) : failOutcome(rules.failPolicy);
  const failPolicy = unavailable.length === 0 ? null : { policy: rules.failPolicy, unavailable, applied: !fired && !modelScore };
  const topFeatures = modelScore ? topContributions(modelScore) : [];
  const reasons = [
    ...(fired ? [fired.id] : []),
    ...(failPolicy?.applied ? [`risk_unavailable_fail_${failPolicy.policy}`] : []),
    ...topFeatures.map((entry) => entry.feature),
  ];
  return {
    score: modelScore?.score ?? FALLBACK_SCORE[outcome],
    outcome,
    ruleFired: fired ? { id: fired.id, action: fired.action } : null,
    reasons: [...new Set(reasons)],
    topFeatures,
    ruleSetVersion: rules.version,
    modelVersion: scorer.model?.version ?? null,
    failPolicy,
    reviewTimeoutOutcome: outcome === 'review' ? rules.reviewTimeoutOutcome : null,
  };
}

function firstMatchingRule(rules: EffectiveRules, context: RuleContext, lists: ManagedLists): Pick<Rule, 'id' | 'action'> | undefined {
  for (const phase of PHASES) {
    const match = managedListMatch(phase, context.payment, lists) ?? rules.rules.find((rule) => rule.action === phase && ruleMatches(rule, context));
    if (match) return match;
  }
  return undefined;
}

const listSets = new WeakMap<Rule, ReadonlySet<string>>();

export function ruleMatches(rule: Rule, context: RuleContext): boolean {
  if ('list' in rule) {
    let values = listSets.get(rule);
    if (!values) listSets.set(rule, (values = new Set(rule.values)));
    const field = context.payment[rule.list];
    return field !== null && values.has(field);
  }
  return rule.when.every((condition) => conditionHolds(condition, RULE_FEATURES[condition.feature]?.read(context) ?? null));
}

function conditionHolds(condition: Condition, actual: RuleValue): boolean {
  if (actual === null) return false;
  const expected = condition.value;
  switch (condition.op) {
    case '==': return actual === expected;
    case '!=': return actual !== expected;
    case '>': return typeof actual === 'number' && actual > (expected as number);
    case '>=': return typeof actual === 'number' && actual >= (expected as number);
    case '<': return typeof actual === 'number' && actual < (expected as number);
    case '<=': return typeof actual === 'number' && actual <= (expected as number);
    case 'in': return Array.isArray(expected) && (expected as unknown[]).includes(actual);
    default: {
      const unreachable: never = condition.op;
      throw new Error(`unknown operator ${String(unreachable)}`);
    }
  }
}

export function outcomeForScore(score: number, rules: Pick<EffectiveRules, 'thresholds'>): RiskDecision {
  if (score >= rules.thresholds.declineFromScore) return 'decline';
  if (score >= rules.thresholds.reviewFromScore) return 'review';
  return 'approve';
}

function failOutcome(policy: FailPolicy): RiskDecision {
  switch (policy) {
    case 'open': return 'approve';
    case 'closed': return 'decline';
    default: {
      const unreachable: never = policy;
      throw new Error(`unknown fail policy ${String(unreachable)}`);
    }
  }
}

/**
 * Reasons name inputs that raise the score by being there (a busy device, a new account), not by
 * being absent or low: "few payments in 24 h" is no reason a person would give for suspicion.
 */
function topContributions(modelScore: ModelScore): { feature: string; contribution: number }[] {
  return modelScore.contributions
    .filter((entry) => entry.contribution > 0 && entry.aboveMean)
    .slice(0, MAX_REASON_FEATURES)
    .map((entry) => ({ feature: entry.feature, contribution: Math.round(entry.contribution * 1000) / 1000 }));
}
