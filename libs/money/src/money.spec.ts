// Proves Money construction, parsing, formatting, arithmetic and allocation by example, bad input included.
import { CurrencyMismatchError, InvalidAmountError, InvalidArgumentError, UnknownCurrencyError } from './errors.js';
import {
  type Money,
  abs,
  add,
  allocate,
  compare,
  equals,
  formatMoney,
  isMoney,
  isNegative,
  isPositive,
  isZero,
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
  zero,
} from './money.js';

const eur = (minor: bigint): Money => moneyFromMinor(minor, 'EUR');
const usd = (minor: bigint): Money => moneyFromMinor(minor, 'USD');
const minors = (parts: readonly Money[]): bigint[] => parts.map((part) => part.amountMinor);

describe('moneyFromMinor', () => {
  it('builds a frozen value from a bigint', () => {
    const money = moneyFromMinor(1234n, 'EUR');
    expect(money).toEqual({ amountMinor: 1234n, currency: 'EUR' });
    expect(Object.isFrozen(money)).toBe(true);
  });

  it.each([
    ['1234', 1234n],
    ['0', 0n],
    ['-5', -5n],
    ['123456789012345678901234567890', 123456789012345678901234567890n],
  ])('accepts the canonical minor string %s', (input, expected) => {
    expect(moneyFromMinor(input, 'JPY').amountMinor).toBe(expected);
  });

  it.each(['01', '-0', '+1', '1.0', '1e3', '', ' 1', '1 ', '1_000', '1,000', '--1', '-', '0x10', 'NaN', 'Infinity', '١٢'])(
    'refuses the non-canonical minor string %p',
    (input) => {
      expect(() => moneyFromMinor(input, 'EUR')).toThrow(InvalidAmountError);
      expect(() => moneyFromMinor(input, 'EUR')).toThrow(`Invalid amount ${JSON.stringify(input)}`);
    },
  );

  it.each([12, 12.5, Number.NaN, null, undefined, {}])('refuses the non-bigint, non-string %p', (input) => {
    expect(() => moneyFromMinor(input as unknown as bigint, 'EUR')).toThrow(InvalidAmountError);
  });

  it('refuses unknown currencies', () => {
    expect(() => moneyFromMinor(1n, 'EURO')).toThrow(UnknownCurrencyError);
    expect(() => zero('usd')).toThrow(UnknownCurrencyError);
  });

  it('zero is zero of the currency', () => {
    expect(zero('KWD')).toEqual({ amountMinor: 0n, currency: 'KWD' });
  });
});

describe('parseMoney', () => {
  it.each([
    ['12.34', 'EUR', 1234n],
    ['12.3', 'EUR', 1230n],
    ['12', 'EUR', 1200n],
    ['0.05', 'EUR', 5n],
    ['-0.05', 'EUR', -5n],
    ['-12.34', 'USD', -1234n],
    ['0', 'EUR', 0n],
    ['-0', 'EUR', 0n],
    ['-0.00', 'EUR', 0n],
    ['1000', 'JPY', 1000n],
    ['-7', 'KRW', -7n],
    ['1.234', 'BHD', 1234n],
    ['1.2', 'KWD', 1200n],
    ['0.001', 'OMR', 1n],
    ['98765432109876543210.99', 'EUR', 9876543210987654321099n],
  ] as const)('parses %s %s to %d minor units', (input, currency, expected) => {
    expect(parseMoney(input, currency)).toEqual({ amountMinor: expected, currency });
  });

  it('refuses more fraction digits than the currency allows, naming input and limit', () => {
    expect(() => parseMoney('12.345', 'EUR')).toThrow(InvalidAmountError);
    expect(() => parseMoney('12.345', 'EUR')).toThrow('Invalid amount "12.345": EUR allows at most 2 fraction digits');
    expect(() => parseMoney('12.340', 'EUR')).toThrow(InvalidAmountError);
    expect(() => parseMoney('1.0', 'JPY')).toThrow('JPY has no minor unit');
    expect(() => parseMoney('1.2345', 'BHD')).toThrow('BHD allows at most 3 fraction digits');
  });

  it.each([
    '', ' ', '1e3', '1E3', '1.5e2', '1,000.00', '1 000', '1_000', ' 12.34', '12.34 ', '+12.34', '12.', '.5', '-.5',
    '01.00', '00', '--1', '-', 'NaN', 'Infinity', '-Infinity', '0x10', '12,34', '１２', '12.3.4', '1\n',
  ])('refuses the malformed decimal %p', (input) => {
    expect(() => parseMoney(input, 'EUR')).toThrow(InvalidAmountError);
  });

  it.each([12.34, 1234n, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, { amount: '1' }, ['1']])(
    'refuses the non-string %p',
    (input) => {
      expect(() => parseMoney(input as unknown as string, 'EUR')).toThrow(InvalidAmountError);
    },
  );

  it('names a non-string input by its type in the message', () => {
    expect(() => parseMoney(12.34 as unknown as string, 'EUR')).toThrow('Invalid amount 12.34 (number)');
  });

  it('refuses unknown currencies', () => {
    expect(() => parseMoney('1.00', 'XYZ')).toThrow(UnknownCurrencyError);
  });
});

describe('formatting', () => {
  it.each([
    [1234n, 'EUR', '12.34'],
    [-5n, 'EUR', '-0.05'],
    [5n, 'EUR', '0.05'],
    [0n, 'EUR', '0.00'],
    [100n, 'EUR', '1.00'],
    [-100n, 'USD', '-1.00'],
    [1000n, 'JPY', '1000'],
    [-1000n, 'JPY', '-1000'],
    [0n, 'JPY', '0'],
    [1234n, 'BHD', '1.234'],
    [1n, 'BHD', '0.001'],
    [-1n, 'KWD', '-0.001'],
    [12345678901234567890123456789n, 'EUR', '123456789012345678901234567.89'],
  ] as const)('%d minor units of %s is %s', (minor, currency, expected) => {
    const money = moneyFromMinor(minor, currency);
    expect(toMajorString(money)).toBe(expected);
    expect(formatMoney(money)).toBe(`${expected} ${currency}`);
    expect(toMinorString(money)).toBe(minor.toString());
  });

  it('formatMoney is "amount CODE"', () => {
    expect(formatMoney(eur(1234n))).toBe('12.34 EUR');
  });

  it('refuses a malformed Money value', () => {
    expect(() => toMajorString({ amountMinor: 12, currency: 'EUR' } as unknown as Money)).toThrow(InvalidAmountError);
    expect(() => toMinorString({ amountMinor: '12', currency: 'EUR' } as unknown as Money)).toThrow(InvalidAmountError);
    expect(() => formatMoney({ amountMinor: 12n, currency: 'EURO' } as unknown as Money)).toThrow(UnknownCurrencyError);
    expect(() => toMinorString(null as unknown as Money)).toThrow(InvalidAmountError);
  });
});

describe('isMoney', () => {
  it('recognises only well-formed values', () => {
    expect(isMoney(eur(1n))).toBe(true);
    expect(isMoney({ amountMinor: 1n, currency: 'JPY' })).toBe(true);
    for (const value of [null, undefined, 1n, '1.00 EUR', { amountMinor: 1, currency: 'EUR' }, { amountMinor: '1', currency: 'EUR' }, { amountMinor: 1n, currency: 'eur' }, { amountMinor: 1n }]) {
      expect(isMoney(value)).toBe(false);
    }
  });
});

describe('arithmetic', () => {
  it('adds, subtracts, negates, takes absolute values and multiplies by integers', () => {
    expect(add(eur(1234n), eur(-34n))).toEqual(eur(1200n));
    expect(subtract(eur(100n), eur(250n))).toEqual(eur(-150n));
    expect(negate(eur(5n))).toEqual(eur(-5n));
    expect(negate(eur(0n))).toEqual(eur(0n));
    expect(abs(eur(-5n))).toEqual(eur(5n));
    expect(abs(eur(5n))).toEqual(eur(5n));
    expect(multiply(eur(333n), 3n)).toEqual(eur(999n));
    expect(multiply(eur(333n), -2n)).toEqual(eur(-666n));
    expect(multiply(eur(333n), 0n)).toEqual(eur(0n));
  });

  it('returns new frozen values and leaves the inputs alone', () => {
    const a = eur(1n);
    const result = add(a, eur(2n));
    expect(result).not.toBe(a);
    expect(Object.isFrozen(result)).toBe(true);
    expect(a.amountMinor).toBe(1n);
  });

  it('refuses non-integer factors', () => {
    expect(() => multiply(eur(100n), 1.5 as unknown as bigint)).toThrow(InvalidArgumentError);
    expect(() => multiply(eur(100n), 2 as unknown as bigint)).toThrow('Invalid factor 2 (number)');
  });

  it('compares and tests sign', () => {
    expect(compare(eur(1n), eur(2n))).toBe(-1);
    expect(compare(eur(2n), eur(2n))).toBe(0);
    expect(compare(eur(3n), eur(2n))).toBe(1);
    expect(equals(eur(2n), eur(2n))).toBe(true);
    expect(equals(eur(2n), eur(3n))).toBe(false);
    expect([isZero(eur(0n)), isZero(eur(1n))]).toEqual([true, false]);
    expect([isNegative(eur(-1n)), isNegative(eur(0n)), isNegative(eur(1n))]).toEqual([true, false, false]);
    expect([isPositive(eur(-1n)), isPositive(eur(0n)), isPositive(eur(1n))]).toEqual([false, false, true]);
  });

  it('min and max of one or more amounts', () => {
    expect(min(eur(5n))).toEqual(eur(5n));
    expect(min(eur(5n), eur(-3n), eur(7n))).toEqual(eur(-3n));
    expect(max(eur(5n), eur(-3n), eur(7n))).toEqual(eur(7n));
  });

  it('sums a list, the empty list being zero of the given currency', () => {
    expect(sum([eur(1n), eur(2n), eur(-4n)], 'EUR')).toEqual(eur(-1n));
    expect(sum([], 'JPY')).toEqual(zero('JPY'));
    expect(() => sum([], 'XYZ')).toThrow(UnknownCurrencyError);
    expect(() => sum('nope' as unknown as Money[], 'EUR')).toThrow(InvalidArgumentError);
  });

  it('refuses mixed currencies with CurrencyMismatchError naming both', () => {
    const a = eur(1n);
    const b = usd(1n);
    for (const operation of [() => add(a, b), () => subtract(a, b), () => compare(a, b), () => equals(a, b), () => min(a, b), () => max(a, a, b), () => sum([a, b], 'EUR')]) {
      expect(operation).toThrow(CurrencyMismatchError);
      expect(operation).toThrow(/EUR and USD/);
    }
    expect(() => sum([a], 'USD')).toThrow('Currency mismatch in sum: USD and EUR cannot be combined');
    try {
      add(a, b);
    } catch (error) {
      expect(error).toMatchObject({ name: 'CurrencyMismatchError', left: 'EUR', right: 'USD', operation: 'add' });
    }
  });

  it('refuses hand-made values with a number amount', () => {
    const bad = { amountMinor: 1, currency: 'EUR' } as unknown as Money;
    expect(() => add(eur(1n), bad)).toThrow(InvalidAmountError);
    expect(() => negate(bad)).toThrow(InvalidAmountError);
    expect(() => isZero(bad)).toThrow(InvalidAmountError);
  });
});

describe('allocate', () => {
  it('splits 1.00 EUR in three with the extra cent on the first part', () => {
    expect(minors(allocate(eur(100n), [1n, 1n, 1n]))).toEqual([34n, 33n, 33n]);
  });

  it('gives leftover units to the first parts for equal ratios', () => {
    expect(minors(allocate(eur(5n), [1n, 1n, 1n]))).toEqual([2n, 2n, 1n]);
    expect(minors(allocate(eur(2n), [1n, 1n, 1n, 1n]))).toEqual([1n, 1n, 0n, 0n]);
  });

  it('uses the largest remainder, not the position, for unequal ratios', () => {
    // 10 × [1, 2, 3] / 6 = [1.67, 3.33, 5] -> floors [1, 3, 5], 1 left, largest remainder is part 0.
    expect(minors(allocate(eur(10n), [1n, 2n, 3n]))).toEqual([2n, 3n, 5n]);
    // 10 × [3, 3, 4] / 10 exact.
    expect(minors(allocate(eur(10n), [3n, 3n, 4n]))).toEqual([3n, 3n, 4n]);
    // 100 × [70, 30] / 100 exact; 5 × [70, 30] = [3.5, 1.5] -> tie -> first part.
    expect(minors(allocate(eur(5n), [70n, 30n]))).toEqual([4n, 1n]);
    // 7 × [1, 5] / 6 = [1.17, 5.83] -> [1, 6].
    expect(minors(allocate(eur(7n), [1n, 5n]))).toEqual([1n, 6n]);
  });

  it('gives zero to zero ratios and handles a single part', () => {
    expect(minors(allocate(eur(101n), [0n, 1n, 0n, 1n]))).toEqual([0n, 51n, 0n, 50n]);
    expect(minors(allocate(eur(101n), [7n]))).toEqual([101n]);
  });

  it('splits negative amounts symmetrically and keeps the currency', () => {
    const parts = allocate(moneyFromMinor(-100n, 'JPY'), [1n, 1n, 1n]);
    expect(minors(parts)).toEqual([-34n, -33n, -33n]);
    expect(parts.every((part) => part.currency === 'JPY')).toBe(true);
    expect(minors(allocate(eur(0n), [1n, 2n]))).toEqual([0n, 0n]);
  });

  it.each([
    [[], 'non-empty'],
    [[0n, 0n], 'at least one ratio must be positive'],
    [[1n, -1n], 'non-negative'],
    [[1, 2], 'non-negative bigint'],
  ] as const)('refuses the ratios %p', (ratios, message) => {
    expect(() => allocate(eur(100n), ratios as unknown as bigint[])).toThrow(InvalidArgumentError);
    expect(() => allocate(eur(100n), ratios as unknown as bigint[])).toThrow(message);
  });
});
