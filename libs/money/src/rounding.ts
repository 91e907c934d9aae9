// Rounding of exact rational results (numerator / denominator, both bigint) to whole minor units.
import { InvalidArgumentError } from './errors.js';

/**
 * How an exact result that falls between two minor units is brought to a whole minor unit.
 *
 * - 'half-even' (DEFAULT, "banker's rounding"): to the nearest unit; an exact tie (.5) goes to the
 *   even neighbour (0.125 EUR -> 0.12, 0.135 EUR -> 0.14). Chosen as the default because ties
 *   round up as often as down, so summing many rounded fees does not drift systematically in
 *   anyone's favour, unlike half-up which always pushes ties away from zero.
 * - 'half-up': to the nearest unit; an exact tie goes away from zero (0.125 -> 0.13, -0.125 -> -0.13).
 * - 'down': toward zero (truncation): 0.129 -> 0.12, -0.129 -> -0.12.
 * - 'up': away from zero: 0.121 -> 0.13, -0.121 -> -0.13.
 * - 'floor': toward negative infinity: 0.129 -> 0.12, -0.121 -> -0.13.
 * - 'ceiling': toward positive infinity: 0.121 -> 0.13, -0.129 -> -0.12.
 *
 * A result that is already a whole number of minor units is never changed by any mode.
 */
export type RoundingMode = 'half-even' | 'half-up' | 'down' | 'up' | 'floor' | 'ceiling';

/** The default rounding mode everywhere in this library. */
export const DEFAULT_ROUNDING: RoundingMode = 'half-even';

/** Every rounding mode, for validation and tests. */
export const ROUNDING_MODES: readonly RoundingMode[] = Object.freeze(['half-even', 'half-up', 'down', 'up', 'floor', 'ceiling']);

/** Throws InvalidArgumentError unless `mode` is one of ROUNDING_MODES (guards untyped callers). */
export function assertRoundingMode(mode: unknown): asserts mode is RoundingMode {
  if (!(ROUNDING_MODES as readonly unknown[]).includes(mode)) {
    throw new InvalidArgumentError('rounding mode', mode, `expected one of ${ROUNDING_MODES.join(', ')}`);
  }
}

/**
 * numerator / denominator rounded to an integer with `mode`; pure bigint arithmetic, exact for
 * any magnitude. The denominator must be non-zero (callers validate before).
 */
export function divideRounded(numerator: bigint, denominator: bigint, mode: RoundingMode): bigint {
  if (denominator === 0n) throw new InvalidArgumentError('denominator', denominator, 'division by zero');
  if (denominator < 0n) {
    numerator = -numerator;
    denominator = -denominator;
  }
  const quotient = numerator / denominator; // truncated toward zero
  const remainder = numerator % denominator; // same sign as numerator
  if (remainder === 0n) return quotient;
  const awayFromZero = numerator < 0n ? quotient - 1n : quotient + 1n;
  switch (mode) {
    case 'down':
      return quotient;
    case 'up':
      return awayFromZero;
    case 'floor':
      return numerator < 0n ? awayFromZero : quotient;
    case 'ceiling':
      return numerator > 0n ? awayFromZero : quotient;
    case 'half-up':
    case 'half-even': {
      const twiceRemainder = 2n * (remainder < 0n ? -remainder : remainder);
      if (twiceRemainder < denominator) return quotient;
      if (twiceRemainder > denominator) return awayFromZero;
      if (mode === 'half-up') return awayFromZero;
      return quotient % 2n === 0n ? quotient : awayFromZero;
    }
    default: {
      const unreachable: never = mode;
      throw new InvalidArgumentError('rounding mode', unreachable, `expected one of ${ROUNDING_MODES.join(', ')}`);
    }
  }
}
