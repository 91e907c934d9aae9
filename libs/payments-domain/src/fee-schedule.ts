// A merchant's settlement fee schedule and the fee it charges on one captured payment.
import { currencyOf, moneyFromMinor, percentageOf, type Money } from '@clearline/money';

/**
 * Per merchant (and, through the batch it applies to, per currency): a percentage in basis points
 * (1 bp = 0.01 %, so 2.9 % = 290n) plus a fixed part in minor units of the payment's currency.
 * Both are bigint: a fee is money, and money is never a float.
 */
export interface FeeSchedule {
  readonly percentBasisPoints: bigint;
  readonly fixedMinor: bigint;
}

/**
 * Bounds a schedule must stay within. A percentage above 100 % would take more than the payment,
 * and a fixed part above 1,000 major units is far beyond any card or wallet scheme's and much more
 * likely a unit mistake (major entered as minor) than a deal; both are refused, not clamped.
 */
export const MAX_FEE_PERCENT_BASIS_POINTS = 10_000n;
export const MAX_FIXED_FEE_MAJOR_UNITS = 1_000n;

/** The stated refund policy: a refund returns no fee and is charged none; the payment's fee is kept. */
export const REFUND_FEE_POLICY = 'no_fee_returned';

export type FeeScheduleProblem = 'not_bigint' | 'negative' | 'above_maximum';

export class InvalidFeeScheduleError extends Error {
  constructor(readonly field: keyof FeeSchedule, readonly problem: FeeScheduleProblem, detail: string) {
    super(`invalid fee schedule: ${field} ${detail}`);
    this.name = 'InvalidFeeScheduleError';
  }
}

/**
 * Checks a schedule for `currency` (the fixed part's bound depends on the currency's exponent: 1,000
 * major units is 1000n JPY, 100000n EUR, 1000000n BHD). Throws InvalidFeeScheduleError naming the
 * field; checks the runtime types too, since schedules come from configuration, not from the compiler.
 */
export function validateFeeSchedule(schedule: FeeSchedule, currency: string): FeeSchedule {
  const { minorPerMajor } = currencyOf(currency);
  checkBound('percentBasisPoints', schedule.percentBasisPoints, MAX_FEE_PERCENT_BASIS_POINTS, 'basis points (100 %)');
  checkBound('fixedMinor', schedule.fixedMinor, MAX_FIXED_FEE_MAJOR_UNITS * minorPerMajor, `minor units of ${currency} (${MAX_FIXED_FEE_MAJOR_UNITS} major units)`);
  return schedule;
}

function checkBound(field: keyof FeeSchedule, value: unknown, maximum: bigint, unit: string): void {
  if (typeof value !== 'bigint') {
    throw new InvalidFeeScheduleError(field, 'not_bigint', `must be a bigint, got ${typeof value === 'number' ? `the number ${value}` : typeof value}`);
  }
  if (value < 0n) throw new InvalidFeeScheduleError(field, 'negative', `must not be negative, got ${value}`);
  if (value > maximum) throw new InvalidFeeScheduleError(field, 'above_maximum', `must be at most ${maximum} ${unit}, got ${value}`);
}

/**
 * The fee on one captured payment: fixedMinor + round_half_even(amount x percentBasisPoints / 10 000),
 * computed exactly in bigint by @clearline/money and rounded once. Half-even so that, over many
 * payments, exact ties round up as often as down and neither the platform nor the merchant gains a
 * systematic minor unit. The fee is not capped at the amount: a fixed part can exceed a very small
 * payment, whose net is then negative (the batch absorbs it; see the settlement batch).
 */
export function feeForPayment(amount: Money, schedule: FeeSchedule): Money {
  validateFeeSchedule(schedule, amount.currency);
  if (amount.amountMinor <= 0n) throw new RangeError(`a fee is charged on a positive captured amount, got ${amount.amountMinor} ${amount.currency}`);
  const percentage = percentageOf(amount, schedule.percentBasisPoints, 'half-even');
  return moneyFromMinor(percentage.amountMinor + schedule.fixedMinor, amount.currency);
}

/** The fee a refund returns (or costs) under REFUND_FEE_POLICY: none, in the refund's currency. */
export function feeReturnedForRefund(refund: Money): Money {
  return moneyFromMinor(0n, refund.currency);
}
