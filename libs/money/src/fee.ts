// Percentage fees in basis points with an explicit rounding mode, and fixed-plus-percentage fee schedules.
import { InvalidArgumentError } from './errors.js';
import { type Money, add, checkMoney, moneyFromMinor } from './money.js';
import { DEFAULT_ROUNDING, type RoundingMode, assertRoundingMode, divideRounded } from './rounding.js';

/** Basis points in one whole (100 %): 1 bp = 0.01 %, so 2.9 % = 290n and 100 % = 10_000n. */
export const BASIS_POINTS_PER_WHOLE = 10_000n;

/**
 * `basisPoints` of `money` (2.9 % = 290n), computed exactly as the rational
 * amountMinor × basisPoints / 10 000 and then rounded to a whole minor unit with `rounding`.
 *
 * Default rounding is 'half-even' (banker's rounding): an exact half goes to the even minor unit,
 * so across many fees the ties round up as often as down and the total carries no systematic bias
 * toward the platform or the merchant. Pass another mode only when a contract states it.
 * Basis points must be a non-negative bigint (above 10 000 is allowed: 150 % = 15_000n).
 * A negative amount gives a negative (or zero) result; with 'floor'/'ceiling' the direction is
 * absolute, with the other modes it is symmetric around zero.
 */
export function percentageOf(money: Money, basisPoints: bigint, rounding: RoundingMode = DEFAULT_ROUNDING): Money {
  const currency = checkMoney(money);
  if (typeof basisPoints !== 'bigint' || basisPoints < 0n) {
    throw new InvalidArgumentError('basis points', basisPoints, 'must be a non-negative bigint (2.9 % = 290n)');
  }
  assertRoundingMode(rounding);
  return moneyFromMinor(divideRounded(money.amountMinor * basisPoints, BASIS_POINTS_PER_WHOLE, rounding), currency.code);
}

/** A fee schedule: a percentage in basis points plus a fixed amount, e.g. 2.9 % + 0.30 EUR. */
export interface FeeSchedule {
  /** Percentage part in basis points (2.9 % = 290n). */
  readonly basisPoints: bigint;
  /** Fixed part; must be in the same currency as the amount the fee is charged on. */
  readonly fixed: Money;
  /** Rounding of the percentage part; 'half-even' when omitted. The fixed part is never rounded. */
  readonly rounding?: RoundingMode;
}

/**
 * The fee on `money` under `schedule`: percentageOf(money, basisPoints, rounding) + fixed.
 * Only the percentage part is rounded (once). Throws CurrencyMismatchError when `fixed` is in
 * another currency. Plain arithmetic on the sign: charge fees on the positive gross amount and
 * negate explicitly when a refund reverses a fee.
 */
export function fee(money: Money, schedule: FeeSchedule): Money {
  if (typeof schedule !== 'object' || schedule === null) {
    throw new InvalidArgumentError('fee schedule', schedule, 'expected { basisPoints, fixed, rounding? }');
  }
  const percentage = percentageOf(money, schedule.basisPoints, schedule.rounding ?? DEFAULT_ROUNDING);
  return add(percentage, schedule.fixed);
}
