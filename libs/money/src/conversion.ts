// Exact conversion between currencies (including different exponents) at a rational rate, rounded once.
import { currencyOf } from './currency.js';
import { InvalidArgumentError } from './errors.js';
import { type Money, checkMoney, moneyFromMinor } from './money.js';
import { DEFAULT_ROUNDING, type RoundingMode, assertRoundingMode, divideRounded } from './rounding.js';

/**
 * An exchange rate as an exact fraction of MAJOR units: one major unit of the source currency is
 * worth numerator / denominator major units of the target currency. 1 JPY = 0.0062 EUR is
 * { numerator: 62n, denominator: 10_000n }; 1 EUR = 162.35 JPY is { numerator: 16_235n, denominator: 100n }.
 * Both parts are positive bigints; a quoted decimal rate is turned into this with exact digits.
 */
export interface ExchangeRate {
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/**
 * Converts `money` into `toCurrency` at `rate`, exactly: the target minor units are
 * amountMinor × numerator × 10^toExponent / (denominator × 10^fromExponent), rounded once with
 * `rounding` ('half-even' by default, see RoundingMode). Different exponents are handled by the
 * powers of ten, so 1000 JPY at 0.0062 is 6.20 EUR and 1 BHD at 2.65 is 2.65 USD.
 * Converting to the same currency is allowed (rate 1/1 is then the identity).
 */
export function rateConvert(money: Money, toCurrency: string, rate: ExchangeRate, rounding: RoundingMode = DEFAULT_ROUNDING): Money {
  const from = checkMoney(money);
  const to = currencyOf(toCurrency);
  if (typeof rate !== 'object' || rate === null) {
    throw new InvalidArgumentError('exchange rate', rate, 'expected { numerator: bigint, denominator: bigint }');
  }
  const { numerator, denominator } = rate;
  if (typeof numerator !== 'bigint' || numerator <= 0n) {
    throw new InvalidArgumentError('exchange rate numerator', numerator, 'must be a positive bigint');
  }
  if (typeof denominator !== 'bigint' || denominator <= 0n) {
    throw new InvalidArgumentError('exchange rate denominator', denominator, 'must be a positive bigint');
  }
  assertRoundingMode(rounding);
  const targetMinor = divideRounded(
    money.amountMinor * numerator * to.minorPerMajor,
    denominator * from.minorPerMajor,
    rounding,
  );
  return moneyFromMinor(targetMinor, to.code);
}
