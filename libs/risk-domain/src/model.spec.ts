// Proves the model side: a model file is validated with errors that name the input; inference gives a
// 0-100 score and per-input contributions; the seeded simulator is reproducible and labels its four
// fraud patterns; training on a small seeded set reaches a held-out AUC above 0.9; AUC is computed
// right; and a backtest reports how a candidate changes live decisions, fraud caught and sales lost.
import { backtest, type HistoricalPayment } from './backtest.js';
import { decideRisk } from './decide-risk.js';
import { parseRiskModel, RISK_MODEL_FORMAT, RiskModelError, scoreWithModel } from './model.js';
import { areaUnderCurve, DEFAULT_INPUT_NAMES, evaluateModel, trainLogisticRegression } from './model-training.js';
import { parseRuleSet } from './rule-set.js';
import { DEFAULT_SIMULATION, FRAUD_PATTERNS, simulateTraffic } from './transaction-simulator.js';
import { coldFeatures } from './features.js';
import { aPayment } from './test-payments.js';

const SMALL = { ...DEFAULT_SIMULATION, seed: 11, payers: 600, warmupDays: 4, labelledDays: 4, campaignsPerDay: { stolen_card_burst: 3, card_testing: 1, account_takeover: 3, mule_accounts: 1 } };

describe('model files', () => {
  const valid = { format: RISK_MODEL_FORMAT, version: 'm1', intercept: -3, inputs: [{ name: 'new_account', mean: 0.1, scale: 0.2, weight: 1.5 }] };

  it('accepts a valid model and scores with it', () => {
    const model = parseRiskModel(valid);
    const scored = scoreWithModel(model, aPayment(), coldFeatures(aPayment()));
    // new_account = 1 for a payer seen now: logit -3 + 1.5 * (1 - 0.1) / 0.2 = 3.75.
    expect(scored.score).toBe(98);
    expect(scored.contributions).toEqual([{ feature: 'new_account', contribution: 6.75, aboveMean: true }]);
  });

  it.each([
    ['another format', { ...valid, format: 'onnx' }, 'format must be'],
    ['an unknown input', { ...valid, inputs: [{ ...valid.inputs[0], name: 'shoe_size' }] }, 'inputs[0].name "shoe_size" is not a known model input'],
    ['a zero scale', { ...valid, inputs: [{ ...valid.inputs[0], scale: 0 }] }, 'inputs[0].scale must be a positive number'],
    ['a missing weight', { ...valid, inputs: [{ name: 'new_account', mean: 0, scale: 1 }] }, 'inputs[0].weight must be a finite number'],
    ['no inputs', { ...valid, inputs: [] }, 'inputs must be a non-empty array'],
  ])('refuses %s', (_name, candidate, message) => {
    expect(() => parseRiskModel(candidate)).toThrow(RiskModelError);
    expect(() => parseRiskModel(candidate)).toThrow(message);
  });
});

describe('areaUnderCurve', () => {
  it('is 1 when every fraud scores above every good payment, 0.5 when all tie, 0 when reversed', () => {
    expect(areaUnderCurve([0.1, 0.2, 0.8, 0.9], [false, false, true, true])).toBe(1);
    expect(areaUnderCurve([0.5, 0.5, 0.5, 0.5], [false, true, false, true])).toBe(0.5);
    expect(areaUnderCurve([0.9, 0.8, 0.2, 0.1], [false, false, true, true])).toBe(0);
  });
});

describe('the simulator and training', () => {
  const traffic = simulateTraffic(SMALL);
  const labelled = traffic.filter((payment) => !payment.warmup);

  it('is reproducible for a seed and labels each fraud pattern', () => {
    const again = simulateTraffic(SMALL);
    expect(again.length).toBe(traffic.length);
    expect(again.slice(-5).map((entry) => entry.payment)).toEqual(traffic.slice(-5).map((entry) => entry.payment));
    for (const pattern of FRAUD_PATTERNS) expect(labelled.some((entry) => entry.pattern === pattern && entry.fraud)).toBe(true);
    expect(traffic.filter((entry) => entry.warmup).every((entry) => !entry.fraud)).toBe(true);
  });

  it('given a small seeded set, when trained, then the held-out AUC is above 0.9 and the model is valid and deterministic', () => {
    const splitAt = labelled[Math.floor(labelled.length * 0.7)]!.payment.requestedAtMs;
    const train = labelled.filter((entry) => entry.payment.requestedAtMs < splitAt);
    const heldOut = labelled.filter((entry) => entry.payment.requestedAtMs >= splitAt);
    const options = { version: 'small', inputNames: DEFAULT_INPUT_NAMES, epochs: 150, learningRate: 0.05, l2: 0.001 };
    const model = trainLogisticRegression(train, options);
    expect(parseRiskModel(JSON.parse(JSON.stringify(model)))).toEqual(model);
    expect(evaluateModel(model, heldOut, [70]).auc).toBeGreaterThan(0.9);
    expect(trainLogisticRegression(train, options)).toEqual(model);
  });
});

describe('backtest', () => {
  const strict = parseRuleSet({ version: 'strict', failPolicy: 'open', thresholds: { reviewFromScore: 101, declineFromScore: 101 }, rules: [{ id: 'block_new_device', action: 'block', when: [{ feature: 'first_use_of_device', op: '==', value: true }] }] });
  const history = (fraud: boolean | null, live: 'approve' | 'decline', changes = {}): HistoricalPayment => {
    const payment = aPayment(changes);
    return { input: { payment, features: coldFeatures(payment) }, live: { outcome: live, score: live === 'approve' ? 5 : 95 }, fraud };
  };

  it('given live approvals of a fraud and a good payment, when a candidate blocks both, then it reports fraud caught and a sale lost', () => {
    const report = backtest([history(true, 'approve', { paymentId: 'f' }), history(false, 'approve', { paymentId: 'g' }), history(null, 'decline', { paymentId: 'u' })], { ruleSet: strict, model: null });
    expect(report).toMatchObject({
      payments: 3, changed: 2, live: { approve: 2, review: 0, decline: 1 }, candidate: { approve: 0, review: 0, decline: 3 },
      labelled: { fraud: 1, good: 1, unknown: 1 },
      liveLabelled: { fraudCaught: 0, fraudMissed: 1, goodDeclined: 0 },
      candidateLabelled: { fraudCaught: 1, fraudDeclined: 1, fraudMissed: 0, goodDeclined: 1 },
      candidateRulesFired: { block_new_device: 3 },
    });
    expect(report.transitions['approve->decline']).toBe(2);
    expect(report.transitions['decline->decline']).toBe(1);
    expect(report.examples.map((example) => example.paymentId)).toEqual(['f', 'g']);
  });

  it('given the live scorer as candidate, then nothing changes', () => {
    const live = { ruleSet: strict, model: null };
    const payments = [history(false, 'approve', { deviceId: null })].map((entry) => ({ ...entry, live: { outcome: decideRisk(entry.input, live).outcome, score: 0 } }));
    expect(backtest(payments, live).changed).toBe(0);
  });
});
