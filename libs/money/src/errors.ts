// Typed errors raised by @clearline/money. Every message names the offending input, rendered
// safely (strings quoted and truncated, bigints with an `n` suffix, other values by type), so a
// message can go to a log or an API error body without dumping arbitrary payloads.

const MAX_RENDERED_LENGTH = 64;
const MAX_RENDERED_ITEMS = 8;

/** Renders an arbitrary input for an error message: short, unambiguous, never throws. */
export function describeInput(value: unknown, depth = 0): string {
  switch (typeof value) {
    case 'string': {
      const shown = value.length > MAX_RENDERED_LENGTH ? `${value.slice(0, MAX_RENDERED_LENGTH)}…` : value;
      return JSON.stringify(shown);
    }
    case 'bigint': {
      const digits = value.toString();
      return digits.length > MAX_RENDERED_LENGTH ? `${digits.slice(0, MAX_RENDERED_LENGTH)}…n` : `${digits}n`;
    }
    case 'number':
      return `${String(value)} (number)`;
    case 'boolean':
    case 'undefined':
    case 'symbol':
      return String(value);
    case 'function':
      return '(function)';
    default:
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        if (depth > 0) return '[…]';
        const shown = value.slice(0, MAX_RENDERED_ITEMS).map((item) => describeInput(item, depth + 1));
        return `[${shown.join(', ')}${value.length > MAX_RENDERED_ITEMS ? ', …' : ''}]`;
      }
      return '(object)';
  }
}

/** Base class of every error thrown by this library. */
export abstract class MoneyError extends Error {
  protected constructor(name: string, message: string) {
    super(message);
    // Set explicitly (not from new.target.name) so the name survives minification and bundling.
    this.name = name;
  }
}

/** A currency code that is not in the ISO 4217 table of this library (or not a string at all). */
export class UnknownCurrencyError extends MoneyError {
  constructor(readonly input: unknown) {
    super('UnknownCurrencyError', `Unknown currency code ${describeInput(input)}: expected an active ISO 4217 code such as "EUR"`);
  }
}

/** Two amounts of different currencies were combined. Convert explicitly with rateConvert first. */
export class CurrencyMismatchError extends MoneyError {
  constructor(
    readonly left: string,
    readonly right: string,
    readonly operation: string,
  ) {
    super('CurrencyMismatchError', `Currency mismatch in ${operation}: ${left} and ${right} cannot be combined`);
  }
}

/** An amount (decimal string, minor-unit string, bigint, or Money value) that is malformed. */
export class InvalidAmountError extends MoneyError {
  constructor(
    readonly input: unknown,
    readonly reason: string,
  ) {
    super('InvalidAmountError', `Invalid amount ${describeInput(input)}: ${reason}`);
  }
}

/** A non-amount argument (ratio list, rate, factor, basis points, rounding mode) that is malformed. */
export class InvalidArgumentError extends MoneyError {
  constructor(
    readonly argument: string,
    readonly input: unknown,
    readonly reason: string,
  ) {
    super('InvalidArgumentError', `Invalid ${argument} ${describeInput(input)}: ${reason}`);
  }
}
