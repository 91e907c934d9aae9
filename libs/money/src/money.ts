// The Money value: an exact amount of bigint minor units in one ISO 4217 currency, with parsing,
// formatting, arithmetic and allocation. No floating point anywhere, not even intermediate.
import { type Currency, type CurrencyCode, currencyOf } from './currency.js';
import { CurrencyMismatchError, InvalidAmountError, InvalidArgumentError } from './errors.js';

/**
 * An immutable (frozen) amount: `amountMinor` minor units (cents for EUR, yen for JPY, fils for
 * BHD) of `currency`. Build it with moneyFromMinor, parseMoney or zero, never by hand, so the
 * amount and currency are validated; every function here also re-validates what it is given.
 */
export interface Money {
  readonly amountMinor: bigint;
  readonly currency: CurrencyCode;
}

/** Canonical integer string of minor units: "0", "1234", "-5"; never "01", "-0", "+1", "1.0". */
const MINOR_STRING = /^(?:0|-?[1-9][0-9]*)$/;
/** Plain decimal in major units: optional "-", integer part without leading zeros, optional fraction. */
const MAJOR_STRING = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

function make(amountMinor: bigint, currency: Currency): Money {
  return Object.freeze({ amountMinor, currency: currency.code });
}

/**
 * Validates a Money argument coming from anywhere (untyped callers included); returns its currency.
 * Internal to the library (used by fee.ts and conversion.ts), not re-exported from index.ts.
 */
export function checkMoney(value: Money): Currency {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidAmountError(value, 'expected a Money value { amountMinor: bigint, currency }');
  }
  if (typeof value.amountMinor !== 'bigint') {
    throw new InvalidAmountError(value.amountMinor, 'amountMinor must be a bigint');
  }
  return currencyOf(value.currency);
}

/** Validates two Money arguments and that they share a currency. */
function checkSame(a: Money, b: Money, operation: string): Currency {
  const currency = checkMoney(a);
  checkMoney(b);
  if (a.currency !== b.currency) throw new CurrencyMismatchError(a.currency, b.currency, operation);
  return currency;
}

// ---------------------------------------------------------------------------------------------
// Construction, parsing and formatting
// ---------------------------------------------------------------------------------------------

/**
 * Money from minor units. Accepts a bigint, or the canonical integer string used on the wire
 * ("1234", "-5", "0"); refuses numbers (no floats), "01", "-0", "+1", "1.0", " 1", "" and so on.
 */
export function moneyFromMinor(amountMinor: bigint | string, currency: string): Money {
  const resolved = currencyOf(currency);
  if (typeof amountMinor === 'bigint') return make(amountMinor, resolved);
  if (typeof amountMinor !== 'string') {
    throw new InvalidAmountError(amountMinor, 'minor units must be a bigint or a canonical integer string such as "1234"');
  }
  if (!MINOR_STRING.test(amountMinor)) {
    throw new InvalidAmountError(amountMinor, 'minor units must be a canonical integer string such as "1234" or "-5" (no sign "+", leading zeros, "-0", decimal point, spaces)');
  }
  return make(BigInt(amountMinor), resolved);
}

/** Zero in `currency`. */
export function zero(currency: string): Money {
  return make(0n, currencyOf(currency));
}

/**
 * Money from a decimal string in major units: parseMoney('12.34', 'EUR') is 1234 cents.
 * Accepts an optional leading "-" and at most the currency's exponent of fraction digits
 * ('12.3' is fine for EUR, '12.345' is refused, '1.0' is refused for JPY): nothing is ever
 * rounded silently. Refuses exponent notation, "+", thousands separators, whitespace, leading
 * zeros ("01.5"), a bare "." ("1." or ".5"), empty strings, NaN/Infinity and non-strings.
 * "-0" and "-0.00" are accepted and are zero.
 */
export function parseMoney(input: string, currency: string): Money {
  const resolved = currencyOf(currency);
  if (typeof input !== 'string') {
    throw new InvalidAmountError(input, 'expected a decimal string in major units such as "12.34"');
  }
  const match = MAJOR_STRING.exec(input);
  if (match === null) {
    throw new InvalidAmountError(input, 'expected a plain decimal in major units such as "12.34" or "-0.05" (digits, optional leading "-", optional "." and fraction; no exponent, "+", separators, spaces or leading zeros)');
  }
  const [, sign, whole = '0', fraction = ''] = match;
  if (fraction.length > resolved.exponent) {
    throw new InvalidAmountError(
      input,
      resolved.exponent === 0
        ? `${resolved.code} has no minor unit, so no fraction digits are allowed`
        : `${resolved.code} allows at most ${resolved.exponent} fraction digit${resolved.exponent === 1 ? '' : 's'} (no silent rounding)`,
    );
  }
  const magnitude = BigInt(whole + fraction.padEnd(resolved.exponent, '0'));
  return make(sign === '-' ? -magnitude : magnitude, resolved);
}

/** The canonical integer string of the minor units (the wire format): "1234", "-5", "0". */
export function toMinorString(money: Money): string {
  checkMoney(money);
  return money.amountMinor.toString();
}

/**
 * The exact amount in major units with exactly the currency's fraction digits:
 * '12.34' and '-0.05' (EUR), '1000' (JPY), '1.234' (BHD). No grouping, no symbol; exact for any
 * magnitude. parseMoney(toMajorString(m), m.currency) always equals m.
 */
export function toMajorString(money: Money): string {
  const { exponent } = checkMoney(money);
  const negative = money.amountMinor < 0n;
  const digits = (negative ? -money.amountMinor : money.amountMinor).toString();
  const sign = negative ? '-' : '';
  if (exponent === 0) return sign + digits;
  const padded = digits.padStart(exponent + 1, '0');
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/** '12.34 EUR' style: the major-unit string, a space, the ISO code. Not localised. */
export function formatMoney(money: Money): string {
  return `${toMajorString(money)} ${money.currency}`;
}

/** True for a well-formed Money value (bigint amountMinor and a known currency code). */
export function isMoney(value: unknown): value is Money {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { amountMinor?: unknown; currency?: unknown };
  if (typeof candidate.amountMinor !== 'bigint' || typeof candidate.currency !== 'string') return false;
  try {
    currencyOf(candidate.currency);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Arithmetic and comparison (every binary operation refuses mixed currencies)
// ---------------------------------------------------------------------------------------------

export function add(a: Money, b: Money): Money {
  const currency = checkSame(a, b, 'add');
  return make(a.amountMinor + b.amountMinor, currency);
}

export function subtract(a: Money, b: Money): Money {
  const currency = checkSame(a, b, 'subtract');
  return make(a.amountMinor - b.amountMinor, currency);
}

export function negate(money: Money): Money {
  const currency = checkMoney(money);
  return make(-money.amountMinor, currency);
}

export function abs(money: Money): Money {
  const currency = checkMoney(money);
  return make(money.amountMinor < 0n ? -money.amountMinor : money.amountMinor, currency);
}

/** money × factor, where factor is an integer (bigint). For fractions use percentageOf or rateConvert. */
export function multiply(money: Money, factor: bigint): Money {
  const currency = checkMoney(money);
  if (typeof factor !== 'bigint') throw new InvalidArgumentError('factor', factor, 'must be a bigint (integer); no floats');
  return make(money.amountMinor * factor, currency);
}

/** -1, 0 or 1 as a is less than, equal to or greater than b (same currency required). */
export function compare(a: Money, b: Money): -1 | 0 | 1 {
  checkSame(a, b, 'compare');
  return a.amountMinor < b.amountMinor ? -1 : a.amountMinor > b.amountMinor ? 1 : 0;
}

/** Same amount; throws CurrencyMismatchError for different currencies rather than answering false. */
export function equals(a: Money, b: Money): boolean {
  checkSame(a, b, 'equals');
  return a.amountMinor === b.amountMinor;
}

export function isZero(money: Money): boolean {
  checkMoney(money);
  return money.amountMinor === 0n;
}

export function isNegative(money: Money): boolean {
  checkMoney(money);
  return money.amountMinor < 0n;
}

export function isPositive(money: Money): boolean {
  checkMoney(money);
  return money.amountMinor > 0n;
}

/** The smallest of one or more amounts of the same currency (the first one on ties). */
export function min(first: Money, ...rest: readonly Money[]): Money {
  let best = first;
  checkMoney(first);
  for (const next of rest) {
    checkSame(first, next, 'min');
    if (next.amountMinor < best.amountMinor) best = next;
  }
  return best;
}

/** The largest of one or more amounts of the same currency (the first one on ties). */
export function max(first: Money, ...rest: readonly Money[]): Money {
  let best = first;
  checkMoney(first);
  for (const next of rest) {
    checkSame(first, next, 'max');
    if (next.amountMinor > best.amountMinor) best = next;
  }
  return best;
}

/**
 * The sum of a list, which must all be in `currency` (so an empty list has a well-defined
 * result: zero of that currency).
 */
export function sum(items: readonly Money[], currency: string): Money {
  const resolved = currencyOf(currency);
  if (!Array.isArray(items)) throw new InvalidArgumentError('list of amounts', items, 'expected an array of Money');
  let total = 0n;
  for (const item of items) {
    checkMoney(item);
    if (item.currency !== resolved.code) throw new CurrencyMismatchError(resolved.code, item.currency, 'sum');
    total += item.amountMinor;
  }
  return make(total, resolved);
}

// ---------------------------------------------------------------------------------------------
// Allocation
// ---------------------------------------------------------------------------------------------

/**
 * Splits `money` into ratios.length parts proportional to `ratios` without creating or losing a
 * minor unit: the parts always sum to `money` exactly.
 *
 * Rule (largest remainder): each part first gets floor(|amount| × ratio / Σratios); the few minor
 * units left over (fewer than the number of parts) go one each to the parts with the largest
 * remainders, ties going to the EARLIER part. With equal ratios this means the first parts get
 * the extra unit: allocate(1.00 EUR, [1n, 1n, 1n]) is [0.34, 0.33, 0.33]. A zero ratio always
 * gets zero. Negative amounts are split by magnitude and negated, so allocate(-m) = -allocate(m).
 *
 * Ratios are non-negative bigints, at least one of them positive (e.g. [70n, 30n], [1n, 1n, 1n]).
 */
export function allocate(money: Money, ratios: readonly bigint[]): Money[] {
  const currency = checkMoney(money);
  if (!Array.isArray(ratios) || ratios.length === 0) {
    throw new InvalidArgumentError('ratios', ratios, 'expected a non-empty array of non-negative bigints');
  }
  let total = 0n;
  for (const ratio of ratios) {
    if (typeof ratio !== 'bigint' || ratio < 0n) {
      throw new InvalidArgumentError('ratio', ratio, 'every ratio must be a non-negative bigint');
    }
    total += ratio;
  }
  if (total === 0n) throw new InvalidArgumentError('ratios', ratios, 'at least one ratio must be positive');

  const negative = money.amountMinor < 0n;
  const magnitude = negative ? -money.amountMinor : money.amountMinor;
  const shares = ratios.map((ratio) => (magnitude * ratio) / total);
  const remainders = ratios.map((ratio) => (magnitude * ratio) % total);
  let leftover = magnitude - shares.reduce((acc, share) => acc + share, 0n);

  const order = ratios.map((_, index) => index);
  order.sort((i, j) => {
    const ri = remainders[i] as bigint;
    const rj = remainders[j] as bigint;
    return ri > rj ? -1 : ri < rj ? 1 : i - j;
  });
  for (const index of order) {
    if (leftover === 0n) break;
    shares[index] = (shares[index] as bigint) + 1n;
    leftover -= 1n;
  }
  return shares.map((share) => make(negative ? -share : share, currency));
}
