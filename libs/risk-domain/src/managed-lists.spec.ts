// Proves the analysts' lists in the decision and the recorded inputs: an allow-listed value approves
// before every rule, a block-listed one declines before the other block rules and names the list as
// its reason; hits are recorded per payment and replay the same way in a backtest; and the inputs a
// decision records survive JSON (bigints as strings) and give the same decision again.
import { backtest } from './backtest.js';
import { decideRisk, type RiskScorer } from './decide-risk.js';
import { InMemoryFeatureStore } from './in-memory-feature-store.js';
import { ManagedListSet, managedListHits, managedListRuleId } from './managed-lists.js';
import { historicalPaymentOf, recordDecisionInputs } from './recorded-inputs.js';
import { parseRuleSet } from './rule-set.js';
import { aPayment } from './test-payments.js';

const ruleSet = parseRuleSet({
  version: 'test-rules', failPolicy: 'open', thresholds: { reviewFromScore: 60, declineFromScore: 90 }, merchants: {},
  rules: [
    { id: 'allow_rule_payer', action: 'allow', list: 'payerAccountId', values: ['payer-allowed-by-rule'] },
    { id: 'block_rule_device', action: 'block', list: 'deviceId', values: ['device-1'] },
  ],
});
const lists = new ManagedListSet([
  { kind: 'allow', field: 'payerAccountId', value: 'payer-vip' },
  { kind: 'block', field: 'ipAddress', value: '198.51.100.7' },
  { kind: 'block', field: 'cardFingerprint', value: 'f'.repeat(64) },
]);
const scorer: RiskScorer = { ruleSet, model: null, lists };

describe('managed lists in the decision', () => {
  it('given a block-listed IP, then the list declines before the rule set\'s block rules and is the reason', () => {
    const decision = decideRisk({ payment: aPayment(), features: null }, scorer);
    expect(decision).toMatchObject({ outcome: 'decline', ruleFired: { id: 'blocklist_ip', action: 'block' }, reasons: ['blocklist_ip'] });
  });

  it('given an allow-listed payer, then it is approved even on a blocked IP and device', () => {
    expect(decideRisk({ payment: aPayment({ payerAccountId: 'payer-vip' }), features: null }, scorer)).toMatchObject({ outcome: 'approve', reasons: ['allowlist_payer'] });
  });

  it('given no list matches, then the rule set decides as before', () => {
    const decision = decideRisk({ payment: aPayment({ ipAddress: '203.0.113.1' }), features: null }, scorer);
    expect(decision.ruleFired?.id).toBe('block_rule_device');
    expect(decideRisk({ payment: aPayment({ ipAddress: '203.0.113.1' }), features: null }, { ruleSet, model: null }).ruleFired?.id).toBe('block_rule_device');
  });

  it('names every list pseudo-rule distinctly', () => {
    expect([managedListRuleId('allow', 'payerAccountId'), managedListRuleId('block', 'cardFingerprint'), managedListRuleId('block', 'deviceId')])
      .toEqual(['allowlist_payer', 'blocklist_card', 'blocklist_device']);
    expect(lists.size).toBe(3);
  });
});

describe('recorded inputs', () => {
  it('given a decision\'s inputs recorded as JSON, then the restored inputs give the same decision, lists included', () => {
    const store = new InMemoryFeatureStore();
    const payment = aPayment({ cardFingerprint: 'f'.repeat(64), amountMinor: 2n ** 60n });
    store.observe(aPayment({ paymentId: 'earlier', amountMinor: 700n }));
    const features = store.observe(payment);
    const live = decideRisk({ payment, features }, scorer);
    const hits = managedListHits(payment, lists);
    expect(hits).toEqual(['block:cardFingerprint', 'block:ipAddress']);
    const recorded = JSON.parse(JSON.stringify(recordDecisionInputs(payment, features, hits)));
    expect(recorded.payment.amountMinor).toBe((2n ** 60n).toString());
    const history = historicalPaymentOf(recorded, { decision: live.outcome, score: live.score }, true);
    expect(history.input).toEqual({ payment, features });
    // Replayed without the service's lists, the recorded hits still decide as they did.
    const report = backtest([history], { ruleSet, model: null });
    expect(report).toMatchObject({ changed: 0, candidateRulesFired: { blocklist_card: 1 }, candidateLabelled: { fraudCaught: 1 } });
  });

  it('given a decision without features (fail policy), then null is recorded and restored', () => {
    const recorded = JSON.parse(JSON.stringify(recordDecisionInputs(aPayment(), null, [])));
    expect(historicalPaymentOf(recorded, { decision: 'approve', score: 0 }, null).input.features).toBeNull();
  });
});
