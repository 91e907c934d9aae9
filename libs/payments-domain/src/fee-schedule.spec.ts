// Proves the settlement fee: fixed + round_half_even(amount x bp / 10 000) exactly in bigint, for
// currencies with 0, 2 and 3 minor digits and for amounts far beyond 2^53; that schedules out of
// bounds are refused with an error naming the field; and that a refund returns no fee.
import { moneyFromMinor, UnknownCurrencyError, type Money } from '@clearline/money';
import fc from 'fast-check';
import {
  feeForPayment, feeReturnedForRefund, InvalidFeeScheduleError, MAX_FEE_PERCENT_BASIS_POINTS, REFUND_FEE_POLICY, validateFeeSchedule,
  type FeeSchedule,
} from './fee-schedule.js';

const money = (amountMinor: bigint, currency = 'EUR'): Money => moneyFromMinor(amountMinor, currency);
const schedule = (percentBasisPoints: bigint, fixedMinor: bigint): FeeSchedule => ({ percentBasisPoints, fixedMinor });

describe('feeForPayment', () => {
  it.each([
    ['2.9 % + 0.30 of 100.00 EUR', money(10_000n), schedule(290n, 30n), 320n],
    ['2.9 % + 0.30 of 12.50 EUR (36.25 cents rounds to 36)', money(1_250n), schedule(290n, 30n), 66n],
    ['2.9 % + 0.30 of 12.70 EUR (36.83 cents rounds to 37)', money(1_270n), schedule(290n, 30n), 67n],
    ['a fixed part only', money(1_250n), schedule(0n, 25n), 25n],
    ['a percentage only', money(1_000n), schedule(150n, 0n), 15n],
    ['no fee at all', money(1_000n), schedule(0n, 0n), 0n],
    ['100 % (the maximum) of the amount', money(777n), schedule(10_000n, 0n), 777n],
  ])('%s', (_label, amount, feeSchedule, expectedMinor) => {
    expect(feeForPayment(amount, feeSchedule)).toEqual(money(expectedMinor, amount.currency));
  });

  it('rounds exact ties to the even minor unit, not always up', () => {
    // 2.5 % of 1.00 EUR is 2.5 cents -> 2; of 3.00 EUR 7.5 cents -> 8; of 5.00 EUR 12.5 -> 12.
    expect([100n, 300n, 500n].map((cents) => feeForPayment(money(cents), schedule(250n, 0n)).amountMinor)).toEqual([2n, 8n, 12n]);
  });

  it('JPY has no minor unit: the fee is whole yen, the fixed part is in yen', () => {
    expect(feeForPayment(money(100n, 'JPY'), schedule(250n, 0n))).toEqual(money(2n, 'JPY')); // 2.5 yen -> 2
    expect(feeForPayment(money(300n, 'JPY'), schedule(250n, 0n))).toEqual(money(8n, 'JPY')); // 7.5 yen -> 8
    expect(feeForPayment(money(12_345n, 'JPY'), schedule(360n, 40n))).toEqual(money(444n + 40n, 'JPY')); // 444.42 -> 444
  });

  it('BHD has three minor digits: the fee is in fils', () => {
    expect(feeForPayment(money(1_250n, 'BHD'), schedule(290n, 100n))).toEqual(money(36n + 100n, 'BHD')); // 1.250 BHD: 36.25 fils -> 36
    expect(feeForPayment(money(1_250n, 'BHD'), schedule(100n, 0n))).toEqual(money(12n, 'BHD')); // 12.5 -> 12 (even)
    expect(feeForPayment(money(1_350n, 'BHD'), schedule(100n, 0n))).toEqual(money(14n, 'BHD')); // 13.5 -> 14 (even)
  });

  it('stays exact far beyond Number.MAX_SAFE_INTEGER', () => {
    const huge = 10n ** 30n; // the largest magnitude the wire schema carries has 31 digits
    expect(feeForPayment(money(huge), schedule(290n, 30n))).toEqual(money(29n * 10n ** 27n + 30n));
    // (10^40 + 5) / 2 = 5 x 10^39 + 2.5: a tie, to the even neighbour 5 x 10^39 + 2.
    expect(feeForPayment(money(10n ** 40n + 5n), schedule(5_000n, 0n))).toEqual(money(5n * 10n ** 39n + 2n));
    expect(feeForPayment(money(BigInt(Number.MAX_SAFE_INTEGER) + 2n, 'JPY'), schedule(1n, 0n)).amountMinor).toBe(900_719_925_474n);
  });

  it('is never more than half a minor unit from the exact fee, for any amount and schedule (property)', () => {
    fc.assert(fc.property(
      fc.bigInt({ min: 1n, max: 10n ** 31n }),
      fc.bigInt({ min: 0n, max: MAX_FEE_PERCENT_BASIS_POINTS }),
      fc.bigInt({ min: 0n, max: 100_000n }),
      (amountMinor, percentBasisPoints, fixedMinor) => {
        const fee = feeForPayment(money(amountMinor), schedule(percentBasisPoints, fixedMinor)).amountMinor;
        const errorTimes10000 = (fee - fixedMinor) * 10_000n - amountMinor * percentBasisPoints;
        expect(errorTimes10000 <= 5_000n && errorTimes10000 >= -5_000n).toBe(true);
        expect(fee >= fixedMinor).toBe(true);
      },
    ));
  });

  it('is charged on a positive captured amount only', () => {
    expect(() => feeForPayment(money(0n), schedule(290n, 30n))).toThrow('a fee is charged on a positive captured amount, got 0 EUR');
    expect(() => feeForPayment(money(-5n), schedule(290n, 30n))).toThrow(RangeError);
  });
});

describe('validateFeeSchedule', () => {
  it('accepts the bounds themselves', () => {
    expect(validateFeeSchedule(schedule(0n, 0n), 'EUR')).toEqual(schedule(0n, 0n));
    expect(validateFeeSchedule(schedule(10_000n, 100_000n), 'EUR')).toEqual(schedule(10_000n, 100_000n));
    expect(validateFeeSchedule(schedule(10_000n, 1_000n), 'JPY')).toEqual(schedule(10_000n, 1_000n));
    expect(validateFeeSchedule(schedule(10_000n, 1_000_000n), 'BHD')).toEqual(schedule(10_000n, 1_000_000n));
  });

  it.each([
    ['a negative percentage', schedule(-1n, 0n), 'EUR', 'percentBasisPoints must not be negative, got -1'],
    ['a percentage above 100 %', schedule(10_001n, 0n), 'EUR', 'percentBasisPoints must be at most 10000 basis points (100 %), got 10001'],
    ['a percentage as a number', schedule(2.9 as unknown as bigint, 0n), 'EUR', 'percentBasisPoints must be a bigint, got the number 2.9'],
    ['a negative fixed part', schedule(290n, -30n), 'EUR', 'fixedMinor must not be negative, got -30'],
    ['a fixed part above 1,000 EUR', schedule(290n, 100_001n), 'EUR', 'fixedMinor must be at most 100000 minor units of EUR (1000 major units), got 100001'],
    ['a fixed part above 1,000 JPY', schedule(290n, 1_001n), 'JPY', 'fixedMinor must be at most 1000 minor units of JPY'],
    ['a fixed part above 1,000 BHD', schedule(290n, 1_000_001n), 'BHD', 'fixedMinor must be at most 1000000 minor units of BHD'],
    ['a fixed part as a string', schedule(290n, '30' as unknown as bigint), 'EUR', 'fixedMinor must be a bigint, got string'],
  ])('refuses %s and names the field', (_label, feeSchedule, currency, message) => {
    expect(() => validateFeeSchedule(feeSchedule, currency)).toThrow(InvalidFeeScheduleError);
    expect(() => validateFeeSchedule(feeSchedule, currency)).toThrow(message);
  });

  it('refuses an unknown currency', () => {
    expect(() => validateFeeSchedule(schedule(290n, 30n), 'XYZ')).toThrow(UnknownCurrencyError);
  });

  it('is applied by feeForPayment too, so a bad schedule never prices a payment', () => {
    expect(() => feeForPayment(money(1_000n), schedule(20_000n, 0n))).toThrow(InvalidFeeScheduleError);
  });
});

describe('refunds', () => {
  it(`return no fee (policy '${REFUND_FEE_POLICY}'): the payment's fee is kept, even for a full refund`, () => {
    expect(REFUND_FEE_POLICY).toBe('no_fee_returned');
    expect(feeReturnedForRefund(money(10_000n))).toEqual(money(0n));
    expect(feeReturnedForRefund(money(500n, 'JPY'))).toEqual(money(0n, 'JPY'));
  });
});
