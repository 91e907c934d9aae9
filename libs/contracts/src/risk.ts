import { defineContract } from './contract.js';
import { enumSchema, identifierSchema, objectSchema, uuidSchema } from './schema.js';
import { Topics } from './topics.js';

export const RISK_DECISIONS = ['approve', 'review', 'decline'] as const;
export type RiskDecision = (typeof RISK_DECISIONS)[number];

export interface RiskAssessedData {
  paymentId: string;
  payerAccountId: string;
  score: number;
  decision: RiskDecision;
  /** Reason codes, most important first (e.g. `velocity_payer_1m`, `amount_above_limit`). */
  reasons: string[];
  ruleSetVersion: string;
}

export const RiskAssessed = defineContract<'RiskAssessed', RiskAssessedData>({
  type: 'RiskAssessed',
  kind: 'event',
  schemaVersion: 1,
  topic: Topics.riskEvents,
  description: 'Risk scored a requested payment: score 0-100, a decision and its reason codes.',
  partitionKey: (data) => data.paymentId,
  schema: objectSchema({
    paymentId: uuidSchema,
    payerAccountId: identifierSchema,
    score: { type: 'integer', minimum: 0, maximum: 100 },
    decision: enumSchema(RISK_DECISIONS),
    reasons: { type: 'array', items: identifierSchema, maxItems: 20 },
    ruleSetVersion: identifierSchema,
  }),
});
