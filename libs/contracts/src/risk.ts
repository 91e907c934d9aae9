import { defineContract } from './contract.js';
import { enumSchema, identifierSchema, objectSchema, uuidSchema } from './schema.js';
import { Topics } from './topics.js';

export const RISK_DECISIONS = ['approve', 'review', 'decline'] as const;
export type RiskDecision = (typeof RISK_DECISIONS)[number];

export const RISK_RULE_ACTIONS = ['allow', 'block', 'review'] as const;
export const RISK_FAIL_POLICIES = ['open', 'closed'] as const;
/** What a payment in review becomes when no analyst decides in time. */
export const REVIEW_TIMEOUT_OUTCOMES = ['approve', 'decline'] as const;
export type ReviewTimeoutOutcome = (typeof REVIEW_TIMEOUT_OUTCOMES)[number];
/** Where neither the rule set nor an event says otherwise (events from before the choice existed). */
export const DEFAULT_REVIEW_TIMEOUT_OUTCOME: ReviewTimeoutOutcome = 'decline';
export const RISK_UNAVAILABLE_PARTS = ['features', 'model'] as const;

export interface RiskAssessedData {
  paymentId: string;
  payerAccountId: string;
  score: number;
  decision: RiskDecision;
  /**
   * Reason codes, most important first: the rule that fired (its id), a fail-policy code
   * (`risk_unavailable_fail_open`), then the model inputs that raised the score (`velocity_device_1h`).
   */
  reasons: string[];
  ruleSetVersion: string;
  /** The rule that decided, when one did (otherwise the score met the thresholds). */
  ruleFired?: { id: string; action: (typeof RISK_RULE_ACTIONS)[number] };
  /** The model that scored; absent when no model ran. */
  modelVersion?: string;
  /** The model inputs that raised the score most, with their share of the log-odds. */
  topFeatures?: { feature: string; contribution: number }[];
  /** Present when features or the model were unavailable; `applied` when the policy decided. */
  failPolicy?: { policy: (typeof RISK_FAIL_POLICIES)[number]; unavailable: (typeof RISK_UNAVAILABLE_PARTS)[number][]; applied: boolean };
  /** With a review decision: the merchant's rule for a review nobody decides in time (absent: decline). */
  reviewTimeoutOutcome?: ReviewTimeoutOutcome;
}

// The optional fields arrived with the rules + model scorer (issue 7). Adding optional fields keeps
// schemaVersion 1: every earlier message is still valid, and consumers that read only score,
// decision and reasons (payments, analytics) are unaffected.
export const RiskAssessed = defineContract<'RiskAssessed', RiskAssessedData>({
  type: 'RiskAssessed',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.riskEvents,
  description: 'Risk scored a requested payment: score 0-100, a decision, the rule that fired, the reason codes and, when something was unavailable, the fail policy applied.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({
    paymentId: uuidSchema,
    payerAccountId: identifierSchema,
    score: { type: 'integer', minimum: 0, maximum: 100 },
    decision: enumSchema(RISK_DECISIONS),
    reasons: { type: 'array', items: identifierSchema, maxItems: 20 },
    ruleSetVersion: identifierSchema,
    ruleFired: objectSchema({ id: identifierSchema, action: enumSchema(RISK_RULE_ACTIONS) }),
    modelVersion: identifierSchema,
    topFeatures: {
      type: 'array',
      maxItems: 10,
      items: objectSchema({ feature: identifierSchema, contribution: { type: 'number' } }),
    },
    failPolicy: objectSchema({
      policy: enumSchema(RISK_FAIL_POLICIES),
      unavailable: { type: 'array', items: enumSchema(RISK_UNAVAILABLE_PARTS), minItems: 1, maxItems: 2, uniqueItems: true },
      applied: { type: 'boolean' },
    }),
    reviewTimeoutOutcome: enumSchema(REVIEW_TIMEOUT_OUTCOMES),
  }, ['ruleFired', 'modelVersion', 'topFeatures', 'failPolicy', 'reviewTimeoutOutcome']),
});
