// Proves the skeleton risk rules: which features add which reason and points, per-currency amount limits, the approve/review/decline boundaries, reasons ordered by weight, and the score capped at 100.
import fc from 'fast-check';
import { assessRisk, SKELETON_RULE_SET, type RiskFeatures, type RiskRuleSet } from './risk-assessment.js';

/** A payment that trips no rule: a small EUR amount, the payer's first payment in the minute and hour. */
const quiet: RiskFeatures = { amountMinor: 1_000n, currency: 'EUR', payerPaymentsLastMinute: 1, payerPaymentsLastHour: 1 };

// The three rules, each tripped by one minor unit or one payment past its limit.
const LARGE: Partial<RiskFeatures> = { amountMinor: 500_001n };
const BUSY_MINUTE: Partial<RiskFeatures> = { payerPaymentsLastMinute: 11 };
const BUSY_HOUR: Partial<RiskFeatures> = { payerPaymentsLastHour: 101 };

const POINTS: Record<string, number> = { velocity_payer_1m: 50, amount_above_limit: 40, velocity_payer_1h: 30 };

function assess(...changes: Partial<RiskFeatures>[]) {
  return assessRisk(Object.assign({}, quiet, ...changes) as RiskFeatures);
}

describe('assessRisk', () => {
  describe('when no rule trips', () => {
    it('approves with score 0, no reasons and the rule set version', () => {
      expect(assess()).toEqual({ score: 0, decision: 'approve', reasons: [], ruleSetVersion: 'skeleton-1' });
    });

    it('uses the skeleton rule set by default', () => {
      expect(assessRisk(quiet)).toEqual(assessRisk(quiet, SKELETON_RULE_SET));
    });
  });

  describe('when the amount is large', () => {
    it.each([
      ['EUR (default limit)', 'EUR', 500_000n],
      ['USD (default limit)', 'USD', 500_000n],
      ['BHD (default limit, three decimals)', 'BHD', 500_000n],
      ['JPY', 'JPY', 1_000_000n],
      ['KRW', 'KRW', 10_000_000n],
    ])('%s: the limit itself passes, one minor unit above adds amount_above_limit (40, approve)', (_name, currency, limitMinor) => {
      expect(assess({ currency, amountMinor: limitMinor })).toMatchObject({ score: 0, decision: 'approve', reasons: [] });
      expect(assess({ currency, amountMinor: limitMinor + 1n })).toMatchObject({ score: 40, decision: 'approve', reasons: ['amount_above_limit'] });
    });

    it('judges a JPY amount by the JPY limit, not the default one', () => {
      expect(assess({ currency: 'JPY', amountMinor: 900_000n }).reasons).toEqual([]);
      expect(assess({ currency: 'EUR', amountMinor: 900_000n }).reasons).toEqual(['amount_above_limit']);
    });

    it('compares amounts beyond Number.MAX_SAFE_INTEGER exactly', () => {
      const limitMinor = 2n ** 60n;
      const rules: RiskRuleSet = { ...SKELETON_RULE_SET, largeAmountMinorByCurrency: { EUR: limitMinor } };
      expect(assessRisk({ ...quiet, amountMinor: limitMinor }, rules).reasons).toEqual([]);
      expect(assessRisk({ ...quiet, amountMinor: limitMinor + 1n }, rules).reasons).toEqual(['amount_above_limit']);
    });
  });

  describe('when the payer is busy', () => {
    it('10 payments in the minute pass; the 11th adds velocity_payer_1m (50, review)', () => {
      expect(assess({ payerPaymentsLastMinute: 10 })).toMatchObject({ score: 0, decision: 'approve', reasons: [] });
      expect(assess(BUSY_MINUTE)).toMatchObject({ score: 50, decision: 'review', reasons: ['velocity_payer_1m'] });
    });

    it('100 payments in the hour pass; the 101st adds velocity_payer_1h (30, approve)', () => {
      expect(assess({ payerPaymentsLastHour: 100 })).toMatchObject({ score: 0, decision: 'approve', reasons: [] });
      expect(assess(BUSY_HOUR)).toMatchObject({ score: 30, decision: 'approve', reasons: ['velocity_payer_1h'] });
    });
  });

  describe('when several rules trip', () => {
    it.each([
      ['large and busy hour', 70, 'review', ['amount_above_limit', 'velocity_payer_1h'], [LARGE, BUSY_HOUR]],
      ['large and busy minute', 90, 'decline', ['velocity_payer_1m', 'amount_above_limit'], [LARGE, BUSY_MINUTE]],
      ['busy minute and busy hour', 80, 'decline', ['velocity_payer_1m', 'velocity_payer_1h'], [BUSY_MINUTE, BUSY_HOUR]],
      ['all three (120 points, capped)', 100, 'decline', ['velocity_payer_1m', 'amount_above_limit', 'velocity_payer_1h'], [LARGE, BUSY_MINUTE, BUSY_HOUR]],
    ] as const)('%s: score %i, %s, reasons by weight', (_name, score, decision, reasons, changes) => {
      expect(assess(...changes)).toEqual({ score, decision, reasons: [...reasons], ruleSetVersion: 'skeleton-1' });
    });
  });

  describe('decision thresholds', () => {
    // Scores 40 (large), 50 (busy minute) and 90 (both) put each threshold exactly on or one above a score.
    it.each([
      ['score equal to reviewFromScore reviews', { reviewFromScore: 40 }, [LARGE], 'review'],
      ['score one below reviewFromScore approves', { reviewFromScore: 41 }, [LARGE], 'approve'],
      ['score equal to declineFromScore declines', { declineFromScore: 90 }, [LARGE, BUSY_MINUTE], 'decline'],
      ['score one below declineFromScore reviews', { declineFromScore: 91 }, [LARGE, BUSY_MINUTE], 'review'],
      ['the skeleton boundary: 50 reviews', {}, [BUSY_MINUTE], 'review'],
      ['the skeleton boundary: 80 declines', {}, [BUSY_MINUTE, BUSY_HOUR], 'decline'],
    ] as const)('%s', (_name, thresholds, changes, decision) => {
      const rules: RiskRuleSet = { ...SKELETON_RULE_SET, ...thresholds, version: 'thresholds-test' };
      const assessment = assessRisk(Object.assign({}, quiet, ...changes) as RiskFeatures, rules);
      expect(assessment.decision).toBe(decision);
      expect(assessment.ruleSetVersion).toBe('thresholds-test');
    });

    it('a rule set with other limits moves the per-minute and per-hour boundaries', () => {
      const strict: RiskRuleSet = { ...SKELETON_RULE_SET, payerPerMinuteLimit: 2, payerPerHourLimit: 5, version: 'strict-1' };
      expect(assessRisk({ ...quiet, payerPaymentsLastMinute: 3, payerPaymentsLastHour: 6 }, strict))
        .toEqual({ score: 80, decision: 'decline', reasons: ['velocity_payer_1m', 'velocity_payer_1h'], ruleSetVersion: 'strict-1' });
    });
  });

  describe('for any features', () => {
    const features: fc.Arbitrary<RiskFeatures> = fc.record({
      amountMinor: fc.bigInt({ min: 1n, max: 10n ** 31n - 1n }),
      currency: fc.constantFrom('EUR', 'USD', 'JPY', 'KRW', 'BHD', 'VND'),
      payerPaymentsLastMinute: fc.integer({ min: 1, max: 50 }),
      payerPaymentsLastHour: fc.integer({ min: 1, max: 500 }),
    });

    it('scores an integer from 0 to 100, the capped sum of its reasons, decided by the thresholds, reasons by weight', () => {
      fc.assert(fc.property(features, (input) => {
        const { score, decision, reasons } = assessRisk(input);
        const points = reasons.map((reason) => POINTS[reason] ?? Number.NaN);
        expect(Number.isInteger(score)).toBe(true);
        expect(score).toBe(Math.min(100, points.reduce((total, value) => total + value, 0)));
        expect(decision).toBe(score >= 80 ? 'decline' : score >= 50 ? 'review' : 'approve');
        expect(points).toEqual([...points].sort((left, right) => right - left));
        expect(new Set(reasons).size).toBe(reasons.length);
      }));
    });

    it('never lowers the score when the payer gets busier or the amount grows', () => {
      fc.assert(fc.property(features, fc.nat({ max: 1000 }), fc.nat({ max: 1000 }), fc.bigInt({ min: 0n, max: 10n ** 9n }), (input, moreInMinute, moreInHour, moreMinor) => {
        const busier = {
          ...input,
          amountMinor: input.amountMinor + moreMinor,
          payerPaymentsLastMinute: input.payerPaymentsLastMinute + moreInMinute,
          payerPaymentsLastHour: input.payerPaymentsLastHour + moreInHour,
        };
        expect(assessRisk(busier).score).toBeGreaterThanOrEqual(assessRisk(input).score);
      }));
    });
  });
});
