// Proves percentageOf and fee by example: basis points, each rounding mode, fixed parts, bad input.
import { CurrencyMismatchError, InvalidArgumentError, InvalidAmountError } from './errors.js';
import { BASIS_POINTS_PER_WHOLE, fee, percentageOf } from './fee.js';
import { type Money, moneyFromMinor } from './money.js';
import type { RoundingMode } from './rounding.js';

const eur = (minor: bigint): Money => moneyFromMinor(minor, 'EUR');

describe('percentageOf', () => {
  it('takes basis points of an amount (2.9 % = 290n)', () => {
    expect(BASIS_POINTS_PER_WHOLE).toBe(10_000n);
    expect(percentageOf(eur(10_000n), 290n)).toEqual(eur(290n)); // 2.9 % of 100.00 = 2.90
    expect(percentageOf(eur(10_000n), 10_000n)).toEqual(eur(10_000n));
    expect(percentageOf(eur(10_000n), 15_000n)).toEqual(eur(15_000n));
    expect(percentageOf(eur(12_345n), 0n)).toEqual(eur(0n));
    expect(percentageOf(moneyFromMinor(1000n, 'JPY'), 290n)).toEqual(moneyFromMinor(29n, 'JPY'));
    expect(percentageOf(moneyFromMinor(1_000n, 'BHD'), 125n)).toEqual(moneyFromMinor(12n, 'BHD')); // 12.5 fils -> 12 (even)
  });

  // 2.9 % of 12.50 EUR = 36.25 cents; 2.9 % of 12.70 = 36.83; 2.9 % of 12.10 = 35.09.
  it.each([
    ['half-even', 1250n, 36n], ['half-up', 1250n, 36n], ['down', 1250n, 36n], ['up', 1250n, 37n], ['floor', 1250n, 36n], ['ceiling', 1250n, 37n],
    ['half-even', 1270n, 37n], ['half-up', 1270n, 37n], ['down', 1270n, 36n], ['up', 1270n, 37n], ['floor', 1270n, 36n], ['ceiling', 1270n, 37n],
    ['half-even', -1250n, -36n], ['half-up', -1250n, -36n], ['down', -1250n, -36n], ['up', -1250n, -37n], ['floor', -1250n, -37n], ['ceiling', -1250n, -36n],
  ] as const)('%s: 2.9 %% of %d cents is %d cents', (mode, amount, expected) => {
    expect(percentageOf(eur(amount), 290n, mode as RoundingMode)).toEqual(eur(expected));
  });

  it('breaks exact ties to even by default and away from zero with half-up', () => {
    // 50 % of 1 cent = 0.5; of 3 cents = 1.5; of 5 cents = 2.5.
    expect([1n, 3n, 5n].map((c) => percentageOf(eur(c), 5_000n).amountMinor)).toEqual([0n, 2n, 2n]);
    expect([1n, 3n, 5n].map((c) => percentageOf(eur(c), 5_000n, 'half-up').amountMinor)).toEqual([1n, 2n, 3n]);
    expect([-1n, -3n, -5n].map((c) => percentageOf(eur(c), 5_000n, 'half-up').amountMinor)).toEqual([-1n, -2n, -3n]);
  });

  it('refuses bad basis points, rounding modes and amounts', () => {
    expect(() => percentageOf(eur(100n), -1n)).toThrow(InvalidArgumentError);
    expect(() => percentageOf(eur(100n), 2.9 as unknown as bigint)).toThrow('Invalid basis points 2.9 (number)');
    expect(() => percentageOf(eur(100n), 290n, 'bankers' as RoundingMode)).toThrow('Invalid rounding mode "bankers"');
    expect(() => percentageOf({ amountMinor: '100', currency: 'EUR' } as unknown as Money, 290n)).toThrow(InvalidAmountError);
  });
});

describe('fee', () => {
  it('is the rounded percentage plus the fixed part (2.9 % + 0.30)', () => {
    expect(fee(eur(10_000n), { basisPoints: 290n, fixed: eur(30n) })).toEqual(eur(320n));
    expect(fee(eur(1250n), { basisPoints: 290n, fixed: eur(30n) })).toEqual(eur(66n));
    expect(fee(eur(1250n), { basisPoints: 290n, fixed: eur(30n), rounding: 'up' })).toEqual(eur(67n));
    expect(fee(eur(0n), { basisPoints: 290n, fixed: eur(30n) })).toEqual(eur(30n));
  });

  it('refuses a fixed part in another currency and malformed schedules', () => {
    expect(() => fee(eur(100n), { basisPoints: 290n, fixed: moneyFromMinor(30n, 'USD') })).toThrow(CurrencyMismatchError);
    expect(() => fee(eur(100n), { basisPoints: 290n, fixed: moneyFromMinor(30n, 'USD') })).toThrow(/EUR and USD/);
    expect(() => fee(eur(100n), null as unknown as { basisPoints: bigint; fixed: Money })).toThrow(InvalidArgumentError);
    expect(() => fee(eur(100n), { basisPoints: 290, fixed: eur(30n) } as unknown as { basisPoints: bigint; fixed: Money })).toThrow(InvalidArgumentError);
  });
});
