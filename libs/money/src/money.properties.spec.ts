// Proves the money laws with fast-check: round trips, arithmetic laws, allocation, rounding bounds, FX, mixed currencies.
import fc from 'fast-check';
import { rateConvert } from './conversion.js';
import { CURRENCY_CODES, type CurrencyCode, currencyOf } from './currency.js';
import { CurrencyMismatchError, InvalidAmountError } from './errors.js';
import { fee, percentageOf } from './fee.js';
import {
  type Money,
  add,
  allocate,
  compare,
  equals,
  max,
  min,
  moneyFromMinor,
  multiply,
  negate,
  parseMoney,
  subtract,
  sum,
  toMajorString,
  toMinorString,
} from './money.js';
import { ROUNDING_MODES, divideRounded } from './rounding.js';

// Arbitraries -------------------------------------------------------------------------------------

const anyCurrency = fc.constantFrom(...CURRENCY_CODES);
/** Amounts of every size: small values (where rounding edge cases live) and unbounded bigints. */
const anyAmount = fc.oneof(fc.bigInt({ min: -1_000_000n, max: 1_000_000n }), fc.bigInt());
const moneyIn = (currency: CurrencyCode): fc.Arbitrary<Money> => anyAmount.map((amount) => moneyFromMinor(amount, currency));
const anyMoney = anyCurrency.chain(moneyIn);
/** Several amounts sharing one random currency. */
const sameCurrency = (count: number): fc.Arbitrary<Money[]> => anyCurrency.chain((currency) => fc.array(moneyIn(currency), { minLength: count, maxLength: count }));
const twoCurrencies = fc.uniqueArray(anyCurrency, { minLength: 2, maxLength: 2 }) as fc.Arbitrary<[CurrencyCode, CurrencyCode]>;
const anyMode = fc.constantFrom(...ROUNDING_MODES);
const basisPoints = fc.oneof(fc.bigInt({ min: 0n, max: 10_000n }), fc.bigInt({ min: 0n, max: 10n ** 12n }));
const absolute = (value: bigint): bigint => (value < 0n ? -value : value);

// Parsing and formatting --------------------------------------------------------------------------

describe('round trips', () => {
  it('parseMoney(toMajorString(m)) == m for every currency and any size', () => {
    fc.assert(fc.property(anyMoney, (money) => {
      expect(parseMoney(toMajorString(money), money.currency)).toEqual(money);
    }));
  });

  it('moneyFromMinor(toMinorString(m)) == m, and the minor string is canonical', () => {
    fc.assert(fc.property(anyMoney, (money) => {
      const wire = toMinorString(money);
      expect(wire).toMatch(/^(?:0|-?[1-9][0-9]*)$/);
      expect(moneyFromMinor(wire, money.currency)).toEqual(money);
    }));
  });

  it('toMajorString always shows exactly the currency exponent of fraction digits', () => {
    fc.assert(fc.property(anyMoney, (money) => {
      const { exponent } = currencyOf(money.currency);
      const fraction = toMajorString(money).split('.')[1];
      expect(fraction?.length ?? 0).toBe(exponent);
    }));
  });

  it('parseMoney refuses any extra fraction digit instead of rounding', () => {
    fc.assert(fc.property(anyMoney, fc.stringMatching(/^[0-9]{1,5}$/), (money, extra) => {
      const major = toMajorString(money);
      const tooLong = major.includes('.') ? major + extra : `${major}.${extra}`;
      expect(() => parseMoney(tooLong, money.currency)).toThrow(InvalidAmountError);
    }));
  });

  it('parseMoney never accepts a string that is not a plain decimal', () => {
    const plain = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;
    fc.assert(fc.property(fc.string({ maxLength: 12 }), (input) => {
      fc.pre(!plain.test(input));
      expect(() => parseMoney(input, 'EUR')).toThrow(InvalidAmountError);
    }));
  });
});

// Arithmetic --------------------------------------------------------------------------------------

describe('arithmetic laws', () => {
  it('add is commutative and associative', () => {
    fc.assert(fc.property(sameCurrency(3), ([a, b, c]) => {
      expect(add(a!, b!)).toEqual(add(b!, a!));
      expect(add(add(a!, b!), c!)).toEqual(add(a!, add(b!, c!)));
    }));
  });

  it('a + b - b == a, a - a == 0 and -(-a) == a', () => {
    fc.assert(fc.property(sameCurrency(2), ([a, b]) => {
      expect(subtract(add(a!, b!), b!)).toEqual(a);
      expect(subtract(a!, a!).amountMinor).toBe(0n);
      expect(negate(negate(a!))).toEqual(a);
      expect(add(a!, negate(b!))).toEqual(subtract(a!, b!));
    }));
  });

  it('multiply by an integer distributes over add', () => {
    fc.assert(fc.property(sameCurrency(2), fc.bigInt({ min: -1000n, max: 1000n }), ([a, b], k) => {
      expect(multiply(add(a!, b!), k)).toEqual(add(multiply(a!, k), multiply(b!, k)));
    }));
  });

  it('compare is antisymmetric and agrees with equals, min, max and the sign of a - b', () => {
    fc.assert(fc.property(sameCurrency(2), ([a, b]) => {
      const order = compare(a!, b!);
      expect(compare(b!, a!) + order).toBe(0);
      expect(equals(a!, b!)).toBe(order === 0);
      const difference = subtract(a!, b!).amountMinor;
      expect(order).toBe(difference < 0n ? -1 : difference > 0n ? 1 : 0);
      expect(min(a!, b!).amountMinor <= max(a!, b!).amountMinor).toBe(true);
    }));
  });

  it('sum equals folding add, starting from zero', () => {
    fc.assert(fc.property(anyCurrency.chain((currency) => fc.tuple(fc.constant(currency), fc.array(moneyIn(currency), { maxLength: 10 }))), ([currency, items]) => {
      const expected = items.reduce((acc, item) => acc + item.amountMinor, 0n);
      expect(sum(items, currency)).toEqual(moneyFromMinor(expected, currency));
    }));
  });

  it('mixed currencies always throw CurrencyMismatchError naming both', () => {
    fc.assert(fc.property(twoCurrencies, anyAmount, anyAmount, ([left, right], x, y) => {
      const a = moneyFromMinor(x, left);
      const b = moneyFromMinor(y, right);
      const operations = [
        () => add(a, b), () => subtract(a, b), () => compare(a, b), () => equals(a, b),
        () => min(a, b), () => max(a, b), () => sum([a, b], left), () => sum([b], left),
        () => fee(a, { basisPoints: 100n, fixed: b }),
      ];
      for (const operation of operations) {
        expect(operation).toThrow(CurrencyMismatchError);
        expect(operation).toThrow(left);
        expect(operation).toThrow(right);
      }
    }));
  });
});

// Allocation --------------------------------------------------------------------------------------

describe('allocate', () => {
  const ratios = fc.array(fc.bigInt({ min: 0n, max: 1000n }), { minLength: 1, maxLength: 12 }).filter((list) => list.some((ratio) => ratio > 0n));

  it('parts always sum to the original, keep its currency, and stay within one unit of the exact share', () => {
    fc.assert(fc.property(anyMoney, ratios, (money, weights) => {
      const parts = allocate(money, weights);
      expect(parts).toHaveLength(weights.length);
      expect(sum(parts, money.currency)).toEqual(money);
      const total = weights.reduce((acc, weight) => acc + weight, 0n);
      parts.forEach((part, index) => {
        expect(part.currency).toBe(money.currency);
        const exactTimesTotal = money.amountMinor * weights[index]!;
        expect(absolute(part.amountMinor * total - exactTimesTotal) < total).toBe(true);
        if (weights[index] === 0n) expect(part.amountMinor).toBe(0n);
      });
    }));
  });

  it('equal ratios give parts that differ by at most one minor unit, larger parts first', () => {
    fc.assert(fc.property(anyMoney, fc.integer({ min: 1, max: 12 }), fc.bigInt({ min: 1n, max: 50n }), (money, count, weight) => {
      const amounts = allocate(money, Array.from({ length: count }, () => weight)).map((part) => absolute(part.amountMinor));
      const largest = amounts.reduce((a, b) => (a > b ? a : b));
      const smallest = amounts.reduce((a, b) => (a < b ? a : b));
      expect(largest - smallest <= 1n).toBe(true);
      // Non-increasing magnitudes: the leftover units went to the first parts.
      for (let i = 1; i < amounts.length; i += 1) expect(amounts[i]! <= amounts[i - 1]!).toBe(true);
    }));
  });

  it('allocate(-m) is -allocate(m)', () => {
    fc.assert(fc.property(anyMoney, ratios, (money, weights) => {
      expect(allocate(negate(money), weights)).toEqual(allocate(money, weights).map(negate));
    }));
  });
});

// Rounding, percentages and fees ------------------------------------------------------------------

describe('percentageOf', () => {
  it('every rounding mode is within one minor unit of the exact rational; half modes within half a unit', () => {
    fc.assert(fc.property(anyMoney, basisPoints, anyMode, (money, bps, mode) => {
      const exactTimes10k = money.amountMinor * bps; // exact result × 10 000
      const error = percentageOf(money, bps, mode).amountMinor * 10_000n - exactTimes10k;
      expect(absolute(error) < 10_000n).toBe(true);
      if (mode === 'half-even' || mode === 'half-up') expect(absolute(error) * 2n <= 10_000n).toBe(true);
    }));
  });

  it("|down| <= |exact| <= |up|, floor <= exact <= ceiling, and they differ by at most one unit", () => {
    fc.assert(fc.property(anyMoney, basisPoints, (money, bps) => {
      const exactTimes10k = money.amountMinor * bps;
      const at = (mode: (typeof ROUNDING_MODES)[number]): bigint => percentageOf(money, bps, mode).amountMinor;
      const [down, up, floor, ceiling] = [at('down'), at('up'), at('floor'), at('ceiling')];
      expect(absolute(down) * 10_000n <= absolute(exactTimes10k)).toBe(true);
      expect(absolute(exactTimes10k) <= absolute(up) * 10_000n).toBe(true);
      expect(floor * 10_000n <= exactTimes10k && exactTimes10k <= ceiling * 10_000n).toBe(true);
      expect(absolute(up - down) <= 1n && ceiling - floor <= 1n && ceiling - floor >= 0n).toBe(true);
      for (const mode of ROUNDING_MODES) {
        const value = at(mode);
        expect(floor <= value && value <= ceiling).toBe(true);
      }
    }));
  });

  it('half-even sends exact ties to the even neighbour; half-up sends them away from zero', () => {
    // amount × bps / 10 000 = q + 1/2 exactly: with 50 % (5000 bp) amount = 2q + 1; with 0.5 % (50 bp) amount = 100 (2q + 1).
    const tie = fc.tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.constantFrom([5_000n, 1n] as const, [50n, 100n] as const), anyCurrency);
    fc.assert(fc.property(tie, ([q, [bps, scale], currency]) => {
      const money = moneyFromMinor((2n * q + 1n) * scale, currency);
      const even = percentageOf(money, bps).amountMinor;
      expect(even % 2n).toBe(0n);
      expect(even === q || even === q + 1n).toBe(true);
      const halfUp = percentageOf(money, bps, 'half-up').amountMinor;
      expect(halfUp).toBe(money.amountMinor < 0n ? q : q + 1n);
    }));
  });

  it('exact results are never changed by any mode', () => {
    fc.assert(fc.property(anyMoney, anyMode, (money, mode) => {
      expect(percentageOf(money, 10_000n, mode)).toEqual(money);
      expect(percentageOf(multiply(money, 100n), 100n, mode)).toEqual(money);
    }));
  });

  it('fee = percentageOf + fixed', () => {
    fc.assert(fc.property(sameCurrency(2), basisPoints, anyMode, ([money, fixed], bps, mode) => {
      expect(fee(money!, { basisPoints: bps, fixed: fixed!, rounding: mode })).toEqual(add(percentageOf(money!, bps, mode), fixed!));
    }));
  });

  it('divideRounded agrees with floor/ceiling bounds for any divisor sign', () => {
    const divisor = fc.bigInt({ min: -(10n ** 6n), max: 10n ** 6n }).filter((value) => value !== 0n);
    fc.assert(fc.property(fc.bigInt(), divisor, anyMode, (numerator, denominator, mode) => {
      const value = divideRounded(numerator, denominator, mode);
      const floor = divideRounded(numerator, denominator, 'floor');
      const ceiling = divideRounded(numerator, denominator, 'ceiling');
      expect(floor <= value && value <= ceiling && ceiling - floor <= 1n).toBe(true);
      // floor × |d| <= n·sign(d) <= ceiling × |d|
      const n = denominator < 0n ? -numerator : numerator;
      const d = absolute(denominator);
      expect(floor * d <= n && n <= ceiling * d).toBe(true);
    }));
  });
});

// Currency conversion -----------------------------------------------------------------------------

describe('rateConvert', () => {
  const rate = fc.record({ numerator: fc.bigInt({ min: 1n, max: 10n ** 9n }), denominator: fc.bigInt({ min: 1n, max: 10n ** 9n }) });

  it('rate 1/1 between currencies of the same exponent is the identity on minor units', () => {
    const sameExponent = twoCurrencies.filter(([a, b]) => currencyOf(a).exponent === currencyOf(b).exponent);
    fc.assert(fc.property(sameExponent, anyAmount, anyMode, ([from, to], amount, mode) => {
      expect(rateConvert(moneyFromMinor(amount, from), to, { numerator: 1n, denominator: 1n }, mode)).toEqual(moneyFromMinor(amount, to));
      expect(rateConvert(moneyFromMinor(amount, from), from, { numerator: 7n, denominator: 7n }, mode)).toEqual(moneyFromMinor(amount, from));
    }));
  });

  it('any conversion is within one target minor unit of the exact rational, in every mode', () => {
    fc.assert(fc.property(anyMoney, anyCurrency, rate, anyMode, (money, to, { numerator, denominator }, mode) => {
      const fromScale = currencyOf(money.currency).minorPerMajor;
      const toScale = currencyOf(to).minorPerMajor;
      const converted = rateConvert(money, to, { numerator, denominator }, mode);
      expect(converted.currency).toBe(to);
      const scaledDenominator = denominator * fromScale;
      const error = converted.amountMinor * scaledDenominator - money.amountMinor * numerator * toScale;
      expect(absolute(error) < scaledDenominator).toBe(true);
    }));
  });

  it('a major-unit amount at rate 1/1 keeps its major value across exponents (e.g. 5 JPY -> 5.00 EUR)', () => {
    fc.assert(fc.property(anyCurrency, anyCurrency, fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), (from, to, major) => {
      const money = moneyFromMinor(major * currencyOf(from).minorPerMajor, from);
      expect(toMajorString(rateConvert(money, to, { numerator: 1n, denominator: 1n }))).toBe(toMajorString(moneyFromMinor(major * currencyOf(to).minorPerMajor, to)));
    }));
  });
});
