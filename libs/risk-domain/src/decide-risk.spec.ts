// Proves the decision: rule sets are validated with errors that name the path; allow, block and
// review rules (lists and conditions over every feature kind) run in that fixed order before the
// score threshold; merchants override thresholds, limits, fail policy, review timeout outcome and rules; the large-amount
// rule judges each currency by its own limit; every decision carries a score, the rule that fired,
// reason codes from the model, and the fail policy when features or the model are unavailable.
import { decideRisk, type RiskScorer } from './decide-risk.js';
import { coldFeatures, type RiskFeatures, type RiskPayment } from './features.js';
import { RISK_MODEL_FORMAT, type RiskModel } from './model.js';
import { parseRuleSet, RuleSetError, type Rule, type RuleSet } from './rule-set.js';
import { aPayment } from './test-payments.js';

/** One input: the payer's earlier payments in the last minute, log(1 + n) - log(3): 25, 50, 67, 91 at 0, 2, 5, 30. */
const MODEL: RiskModel = {
  format: RISK_MODEL_FORMAT, version: 'test-model', intercept: 0,
  inputs: [{ name: 'velocity_payer_1m', mean: Math.log1p(2), scale: 1, weight: 1 }],
};

function ruleSet(changes: Partial<RuleSet> = {}): RuleSet {
  return parseRuleSet({ version: 'test-rules', failPolicy: 'open', thresholds: { reviewFromScore: 60, declineFromScore: 90 }, rules: [], merchants: {}, ...changes });
}

/** Features with `earlierInMinute` payments by the payer before this one. */
function busy(payment: RiskPayment, earlierInMinute: number): RiskFeatures {
  const cold = coldFeatures(payment);
  const count = earlierInMinute + 1;
  return { ...cold, velocity: { ...cold.velocity, payer: { '1m': { count, amountMinor: 0n }, '1h': { count, amountMinor: 0n }, '24h': { count, amountMinor: 0n } } } };
}

function decide(rules: Rule[], options: { payment?: Partial<RiskPayment>; earlier?: number; features?: 'none'; model?: RiskModel | null; set?: Partial<RuleSet> } = {}) {
  const payment = aPayment(options.payment);
  const scorer: RiskScorer = { ruleSet: ruleSet({ rules, ...options.set }), model: options.model === undefined ? MODEL : options.model };
  return decideRisk({ payment, features: options.features === 'none' ? null : busy(payment, options.earlier ?? 0) }, scorer);
}

const allowPayer: Rule = { id: 'allow_payer', action: 'allow', list: 'payerAccountId', values: ['payer-1'] };
const blockDevice: Rule = { id: 'block_device', action: 'block', list: 'deviceId', values: ['device-1'] };
const reviewLarge: Rule = { id: 'review_large', action: 'review', when: [{ feature: 'amount_above_large_limit', op: '==', value: true }] };

describe('the score threshold (no rule fires)', () => {
  it.each([
    [0, 'approve', 25], [2, 'approve', 50], [5, 'review', 67], [30, 'decline', 91],
  ] as const)('given %i earlier payments in the minute, then %s with the model score', (earlier, outcome, score) => {
    const decision = decide([], { earlier });
    expect(decision).toMatchObject({ outcome, score, ruleFired: null, ruleSetVersion: 'test-rules', modelVersion: 'test-model', failPolicy: null });
  });

  it('names the inputs that raised the score as reasons, with their contribution', () => {
    const decision = decide([], { earlier: 5 });
    expect(decision.reasons).toEqual(['velocity_payer_1m']);
    expect(decision.topFeatures).toEqual([{ feature: 'velocity_payer_1m', contribution: 0.693 }]);
  });

  it('gives no reason for an input below its mean', () => {
    expect(decide([], { earlier: 0 }).reasons).toEqual([]);
  });
});

describe('rule order: allow, block, review, then the score', () => {
  it('given an allow and a block rule that both match, then allow wins', () => {
    expect(decide([blockDevice, allowPayer], { earlier: 30 })).toMatchObject({ outcome: 'approve', ruleFired: { id: 'allow_payer', action: 'allow' }, reasons: ['allow_payer', 'velocity_payer_1m'] });
  });

  it('given a block and a review rule that both match, then block declines', () => {
    expect(decide([reviewLarge, blockDevice], { payment: { amountMinor: 10n ** 9n } })).toMatchObject({ outcome: 'decline', ruleFired: { id: 'block_device' } });
  });

  it('given a review rule, then it reviews a payment the score would approve', () => {
    expect(decide([reviewLarge], { payment: { amountMinor: 500_001n } })).toMatchObject({ outcome: 'review', ruleFired: { id: 'review_large' }, score: 25 });
  });

  it('given a review rule, then a score above the decline threshold still only reviews (the rule decides)', () => {
    expect(decide([reviewLarge], { payment: { amountMinor: 500_001n }, earlier: 30 })).toMatchObject({ outcome: 'review', score: 91 });
  });

  it('given no list match, then the lists do not fire', () => {
    expect(decide([allowPayer, blockDevice], { payment: { payerAccountId: 'payer-2', deviceId: 'device-2' } }).ruleFired).toBeNull();
  });
});

describe('list rules', () => {
  it.each([
    ['cardFingerprint', { cardFingerprint: 'card-9' }, 'card-9'], ['ipAddress', {}, '198.51.100.7'], ['merchantId', {}, 'merchant-1'],
  ] as const)('block on %s', (list, payment, value) => {
    expect(decide([{ id: 'blocked', action: 'block', list, values: [value] }], { payment }).outcome).toBe('decline');
  });

  it('an unknown field (no card) never matches', () => {
    expect(decide([{ id: 'blocked', action: 'block', list: 'cardFingerprint', values: ['card-9'] }]).ruleFired).toBeNull();
  });
});

describe('condition rules over each feature kind', () => {
  it.each([
    ['number >', { feature: 'velocity_payer_count_1m', op: '>', value: 3 }, { earlier: 3 }, true],
    ['number > (not met)', { feature: 'velocity_payer_count_1m', op: '>', value: 4 }, { earlier: 3 }, false],
    ['number <=', { feature: 'account_age_hours', op: '<=', value: 1 }, {}, true],
    ['number in', { feature: 'payer_previous_payments', op: 'in', value: [0, 1] }, {}, true],
    ['string ==', { feature: 'method', op: '==', value: 'wallet' }, {}, true],
    ['string in', { feature: 'merchant_category', op: 'in', value: ['gift_cards'] }, { payment: { merchantCategory: 'gift_cards' } }, true],
    ['string != on an unknown value', { feature: 'merchant_category', op: '!=', value: 'grocery' }, {}, false],
    ['boolean ==', { feature: 'first_use_of_device', op: '==', value: true }, {}, true],
    ['country mismatch', { feature: 'country_mismatch', op: '==', value: true }, { payment: { cardCountry: 'DE', ipCountry: 'NG' } }, true],
    ['country mismatch unknown', { feature: 'country_mismatch', op: '==', value: false }, {}, false],
    ['score >=', { feature: 'score', op: '>=', value: 67 }, { earlier: 5 }, true],
    ['amount ratio to the limit', { feature: 'amount_to_large_limit', op: '>', value: 0.5 }, { payment: { amountMinor: 250_001n } }, true],
    ['velocity amount to the limit', { feature: 'velocity_payer_amount_1m_to_large_limit', op: '>=', value: 0 }, {}, true],
    ['distinct cards per device', { feature: 'distinct_cards_device_1h', op: '>=', value: 0 }, {}, true],
    ['distinct cards per IP', { feature: 'distinct_cards_ip_24h', op: '>=', value: 0 }, {}, true],
    ['z-score unknown without history', { feature: 'amount_zscore', op: '>', value: -100 }, {}, false],
  ] as const)('%s', (_name, condition, options, fires) => {
    const rule = { id: 'review_it', action: 'review', when: [condition] } as Rule;
    expect(decide([rule], options as Parameters<typeof decide>[1]).ruleFired?.id ?? null).toBe(fires ? 'review_it' : null);
  });

  it('needs every condition of a rule', () => {
    const rule: Rule = { id: 'both', action: 'review', when: [{ feature: 'method', op: '==', value: 'wallet' }, { feature: 'currency', op: '==', value: 'USD' }] };
    expect(decide([rule]).ruleFired).toBeNull();
    expect(decide([rule], { payment: { currency: 'USD' } }).ruleFired?.id).toBe('both');
  });
});

describe('the large-amount rule, per currency', () => {
  it.each([
    ['EUR', 500_000n], ['JPY', 800_000n], ['VND', 140_000_000n], ['IDR', 8_800_000_000n], ['CLP', 5_100_000n], ['BHD', 2_050_000n],
  ] as const)('%s: the limit passes, one minor unit more reviews', (currency, limitMinor) => {
    expect(decide([reviewLarge], { payment: { currency, amountMinor: limitMinor } }).ruleFired).toBeNull();
    expect(decide([reviewLarge], { payment: { currency, amountMinor: limitMinor + 1n } }).ruleFired?.id).toBe('review_large');
  });

  it('500,001 VND (about 20 EUR) is not large, as it was under one limit for every currency', () => {
    expect(decide([reviewLarge], { payment: { currency: 'VND', amountMinor: 500_001n } }).ruleFired).toBeNull();
  });

  it('a rule set and a merchant can move the limit, in major units', () => {
    expect(decide([reviewLarge], { payment: { amountMinor: 10_001n }, set: { largeAmountMajor: { EUR: '100' } } }).ruleFired?.id).toBe('review_large');
    const merchants = { 'merchant-1': { largeAmountMajor: { EUR: '100000' } } };
    expect(decide([reviewLarge], { payment: { amountMinor: 500_001n }, set: { merchants } }).ruleFired).toBeNull();
  });
});

describe('per-merchant overrides', () => {
  it('thresholds: a stricter merchant reviews what others approve', () => {
    const merchants = { 'merchant-1': { thresholds: { reviewFromScore: 40 } } };
    expect(decide([], { earlier: 2, set: { merchants } }).outcome).toBe('review');
    expect(decide([], { earlier: 2, set: { merchants }, payment: { merchantId: 'merchant-2' } }).outcome).toBe('approve');
  });

  it('rules: a merchant switches a global rule off and adds its own, which runs first', () => {
    const merchants = { 'merchant-1': { disableRules: ['review_large'], rules: [{ id: 'merchant_block_usd', action: 'block', when: [{ feature: 'currency', op: '==', value: 'USD' }] }] } };
    expect(decide([reviewLarge], { payment: { amountMinor: 10n ** 9n }, set: { merchants } as Partial<RuleSet> }).ruleFired).toBeNull();
    expect(decide([reviewLarge], { payment: { currency: 'USD' }, set: { merchants } as Partial<RuleSet> }).ruleFired?.id).toBe('merchant_block_usd');
  });
});

describe('review timeout outcome', () => {
  it('given no word in the rule set, then a review carries decline, and other outcomes carry none', () => {
    expect(decide([], { earlier: 5 })).toMatchObject({ outcome: 'review', reviewTimeoutOutcome: 'decline' });
    expect(decide([], { earlier: 0 })).toMatchObject({ outcome: 'approve', reviewTimeoutOutcome: null });
  });

  it('given a global approve and a merchant that keeps decline, then each review carries its own', () => {
    const set = { reviewTimeoutOutcome: 'approve' as const, merchants: { 'merchant-2': { reviewTimeoutOutcome: 'decline' as const } } };
    expect(decide([reviewLarge], { payment: { amountMinor: 10n ** 9n }, set })).toMatchObject({ outcome: 'review', reviewTimeoutOutcome: 'approve' });
    expect(decide([reviewLarge], { payment: { amountMinor: 10n ** 9n, merchantId: 'merchant-2' }, set })).toMatchObject({ outcome: 'review', reviewTimeoutOutcome: 'decline' });
  });
});

describe('fail policy', () => {
  it('given no features and fail-open, then approve with score 0, recorded as applied', () => {
    expect(decide([], { features: 'none' })).toMatchObject({
      outcome: 'approve', score: 0, reasons: ['risk_unavailable_fail_open'], failPolicy: { policy: 'open', unavailable: ['features'], applied: true },
    });
  });

  it('given no model and a fail-closed merchant, then decline with score 100', () => {
    const merchants = { 'merchant-1': { failPolicy: 'closed' as const } };
    expect(decide([], { model: null, set: { merchants } })).toMatchObject({
      outcome: 'decline', score: 100, modelVersion: null, reasons: ['risk_unavailable_fail_closed'], failPolicy: { policy: 'closed', unavailable: ['model'], applied: true },
    });
  });

  it('given no features, then list rules still decide, and the decision still records what was missing', () => {
    expect(decide([blockDevice], { features: 'none' })).toMatchObject({ outcome: 'decline', ruleFired: { id: 'block_device' }, failPolicy: { applied: false, unavailable: ['features'] } });
  });

  it('given no features, then a rule on a feature cannot fire', () => {
    const rule: Rule = { id: 'busy', action: 'block', when: [{ feature: 'velocity_payer_count_1m', op: '>=', value: 0 }] };
    expect(decide([rule], { features: 'none' }).ruleFired).toBeNull();
  });
});

describe('rule set validation', () => {
  const valid = { version: 'v1', failPolicy: 'open', thresholds: { reviewFromScore: 60, declineFromScore: 90 }, rules: [] };
  it.each([
    ['not an object', [], 'not a JSON object'],
    ['a bad version', { ...valid, version: 'has space' }, 'version: must be an identifier'],
    ['an unknown fail policy', { ...valid, failPolicy: 'maybe' }, 'failPolicy: must be one of open, closed'],
    ['review above decline', { ...valid, thresholds: { reviewFromScore: 95, declineFromScore: 90 } }, 'must not be above declineFromScore'],
    ['a fractional threshold', { ...valid, thresholds: { reviewFromScore: 60.5, declineFromScore: 90 } }, 'thresholds.reviewFromScore: must be an integer'],
    ['an unknown currency limit', { ...valid, largeAmountMajor: { EUX: '10' } }, 'largeAmountMajor.EUX: unknown currency'],
    ['a limit with too many decimals', { ...valid, largeAmountMajor: { JPY: '10.5' } }, 'largeAmountMajor.JPY: '],
    ['a duplicate rule id', { ...valid, rules: [allowPayer, { ...blockDevice, id: 'allow_payer' }] }, "rules[1].id: 'allow_payer' is used twice"],
    ['an unknown action', { ...valid, rules: [{ ...allowPayer, action: 'maybe' }] }, 'rules[0].action: must be one of allow, block, review'],
    ['both list and when', { ...valid, rules: [{ ...allowPayer, when: [] }] }, "rules[0]: needs exactly one of 'list'"],
    ['an unknown list field', { ...valid, rules: [{ ...allowPayer, list: 'email' }] }, 'rules[0].list: must be one of'],
    ['an unknown feature', { ...valid, rules: [{ id: 'r', action: 'review', when: [{ feature: 'velocity_payr_count_1m', op: '>', value: 1 }] }] }, "rules[0].when[0].feature: unknown feature \"velocity_payr_count_1m\""],
    ['an operator that does not fit', { ...valid, rules: [{ id: 'r', action: 'review', when: [{ feature: 'method', op: '>', value: 'card' }] }] }, 'does not apply to string feature'],
    ['a value of the wrong kind', { ...valid, rules: [{ id: 'r', action: 'review', when: [{ feature: 'score', op: '>', value: '50' }] }] }, "rules[0].when[0].value: must be a number for 'score'"],
    ['an unknown field', { ...valid, extra: 1 }, 'extra: unknown field'],
    ['an unknown review timeout outcome', { ...valid, reviewTimeoutOutcome: 'review' }, 'reviewTimeoutOutcome: must be one of approve, decline'],
    ["a merchant's unknown review timeout outcome", { ...valid, merchants: { m: { reviewTimeoutOutcome: 'later' } } }, 'merchants.m.reviewTimeoutOutcome: must be one of approve, decline'],
    ['disabling a rule that does not exist', { ...valid, merchants: { m: { disableRules: ['nope'] } } }, "merchants.m.disableRules[0]: no global rule 'nope'"],
  ])('refuses %s', (_name, candidate, message) => {
    expect(() => parseRuleSet(candidate)).toThrow(RuleSetError);
    expect(() => parseRuleSet(candidate)).toThrow(message);
  });

  it('names every problem at once', () => {
    const error = (() => { try { parseRuleSet({ ...valid, version: '', failPolicy: 'x' }); } catch (caught) { return caught as RuleSetError; } return undefined; })();
    expect(error?.problems).toHaveLength(2);
  });
});
