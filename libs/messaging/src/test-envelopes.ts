import { randomUUID } from 'node:crypto';
import type { ContractEnvelope, MessageEnvelope } from '@clearline/contracts';

/** A contract-valid RiskAssessed envelope for tests; `overrides` replace top-level fields. */
export function riskAssessed(overrides: Partial<MessageEnvelope> = {}): ContractEnvelope<'RiskAssessed'> {
  return {
    id: randomUUID(),
    type: 'RiskAssessed',
    schemaVersion: 1,
    data: { paymentId: randomUUID(), payerAccountId: 'payer-1', score: 10, decision: 'approve', reasons: [], ruleSetVersion: 'v1' },
    metadata: { correlationId: randomUUID(), causationId: randomUUID(), occurredAt: new Date().toISOString(), producer: 'test' },
    ...overrides,
  } as ContractEnvelope<'RiskAssessed'>;
}
