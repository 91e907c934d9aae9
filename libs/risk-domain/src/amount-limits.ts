import { isCurrencyCode, parseMoney } from '@clearline/money';

/**
 * Default "large amount" per currency, in major units, each worth roughly 5,000 EUR. A single minor
 * unit limit for every currency is wrong by orders of magnitude (500,000 minor units is 5,000 EUR but
 * 5,000 JPY, 500,000 VND (about 20 EUR) and 5 BHD), so the limit is stated in major units per
 * currency and turned into minor units with the currency's ISO exponent. Low-value currencies must be
 * listed: for a currency missing here the fallback is 5,000 major units, which is only sensible for
 * currencies worth about as much as the euro. Rule sets override any entry (`largeAmountMajor`).
 */
export const DEFAULT_LARGE_AMOUNT_MAJOR: Readonly<Record<string, string>> = {
  EUR: '5000', USD: '5500', GBP: '4300', CHF: '4700', CAD: '7500', AUD: '8300', NZD: '9000', SGD: '7000',
  HKD: '43000', CNY: '39000', TWD: '170000', JPY: '800000', KRW: '7500000', INR: '460000', PKR: '1500000',
  LKR: '1600000', BDT: '650000', NPR: '730000', IDR: '88000000', VND: '140000000', PHP: '310000', THB: '190000',
  MYR: '25000', KHR: '22000000', LAK: '118000000', MMK: '11500000', MNT: '18500000', UZS: '69000000', KZT: '2700000',
  CLP: '5100000', COP: '22000000', PYG: '42000000', ARS: '5500000', BRL: '30000', MXN: '100000', PEN: '20000',
  UYU: '220000', CRC: '2750000', DOP: '330000', JMD: '850000', HUF: '2000000', ISK: '750000', CZK: '125000',
  PLN: '21500', SEK: '57000', NOK: '60000', DKK: '37500', RON: '25000', BGN: '9800', RSD: '585000', TRY: '210000',
  RUB: '450000', UAH: '225000', ILS: '20000', AED: '20000', SAR: '20500', QAR: '20000', BHD: '2050', KWD: '1650',
  OMR: '2100', JOD: '3850', IQD: '7100000', IRR: '230000000', LBP: '480000000', SYP: '70000000', EGP: '265000',
  MAD: '54000', TND: '17000', DZD: '730000', LYD: '26500', NGN: '8300000', GHS: '80000', KES: '700000',
  UGX: '20000000', TZS: '14500000', RWF: '7700000', BIF: '16000000', ETB: '760000', ZAR: '98000', MGA: '24500000',
  GNF: '47000000', KMF: '2450000', DJF: '970000', XAF: '3280000', XOF: '3280000', XPF: '600000', VUV: '650000',
};

/** Used for a currency neither the rule set nor the table names. */
export const FALLBACK_LARGE_AMOUNT_MAJOR = '5000';

/** An exponent of 2 for currencies the money library does not know, so an odd code still gets a limit. */
const UNKNOWN_CURRENCY_MINOR_PER_MAJOR = 100n;

/**
 * The large-amount limit in minor units: `overridesMajor` (a rule set's) first, then the table,
 * then the fallback. Major units are parsed by the money library, so the exponent is the ISO one.
 */
export function largeAmountLimitMinor(currency: string, overridesMajor: Readonly<Record<string, string>> = {}): bigint {
  const major = overridesMajor[currency] ?? DEFAULT_LARGE_AMOUNT_MAJOR[currency] ?? FALLBACK_LARGE_AMOUNT_MAJOR;
  if (!isCurrencyCode(currency)) return BigInt(major.split('.')[0] ?? major) * UNKNOWN_CURRENCY_MINOR_PER_MAJOR;
  return parseMoney(major, currency).amountMinor;
}

/**
 * `numerator / denominator` as a number with six decimals: ratios feed rules and the model, money
 * stays bigint. The integer part is exact; beyond 2^53 it saturates, which no real ratio reaches.
 */
export function ratioOf(numerator: bigint, denominator: bigint): number {
  if (denominator <= 0n) throw new RangeError(`ratio denominator must be positive, got ${denominator}`);
  return Number((numerator * 1_000_000n) / denominator) / 1_000_000;
}
