// Public API of @clearline/money: exact bigint money in ISO 4217 currencies. Nothing else is exported.
export { type Currency, type CurrencyCode, CURRENCY_CODES, currencyOf, isCurrencyCode } from './currency.js';
export { CurrencyMismatchError, InvalidAmountError, InvalidArgumentError, MoneyError, UnknownCurrencyError } from './errors.js';
export { DEFAULT_ROUNDING, ROUNDING_MODES, type RoundingMode } from './rounding.js';
export {
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
export { BASIS_POINTS_PER_WHOLE, type FeeSchedule, fee, percentageOf } from './fee.js';
export { type ExchangeRate, rateConvert } from './conversion.js';
