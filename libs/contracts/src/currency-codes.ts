import { currencySchema, type JsonSchema } from './schema.js';

/**
 * The ISO 4217 codes a message may name: the active payment currencies of libs/money's table
 * (libs/contracts may import no other lib, so the list is repeated here; the two must stay equal).
 * Fund codes, precious metals, test codes (XTS, XXX) and withdrawn codes are left out, as there.
 *
 * The JSON Schemas only say a currency is three capital letters; validateEnvelope also requires one
 * of these, so a message naming a currency that does not exist ('XYZ') is refused where it is read,
 * as the gateway refuses it at HTTP, instead of opening an account or a payment in it.
 */
export const ISO_4217_CURRENCY_CODES: ReadonlySet<string> = new Set([
  'AED', 'AFN', 'ALL', 'AMD', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN', 'BAM', 'BBD', 'BDT', 'BGN', 'BHD',
  'BIF', 'BMD', 'BND', 'BOB', 'BRL', 'BSD', 'BTN', 'BWP', 'BYN', 'BZD', 'CAD', 'CDF', 'CHF', 'CLP',
  'CNY', 'COP', 'CRC', 'CUP', 'CVE', 'CZK', 'DJF', 'DKK', 'DOP', 'DZD', 'EGP', 'ERN', 'ETB', 'EUR',
  'FJD', 'FKP', 'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD', 'HKD', 'HNL', 'HTG', 'HUF',
  'IDR', 'ILS', 'INR', 'IQD', 'IRR', 'ISK', 'JMD', 'JOD', 'JPY', 'KES', 'KGS', 'KHR', 'KMF', 'KPW',
  'KRW', 'KWD', 'KYD', 'KZT', 'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LYD', 'MAD', 'MDL', 'MGA', 'MKD',
  'MMK', 'MNT', 'MOP', 'MRU', 'MUR', 'MVR', 'MWK', 'MXN', 'MYR', 'MZN', 'NAD', 'NGN', 'NIO', 'NOK',
  'NPR', 'NZD', 'OMR', 'PAB', 'PEN', 'PGK', 'PHP', 'PKR', 'PLN', 'PYG', 'QAR', 'RON', 'RSD', 'RUB',
  'RWF', 'SAR', 'SBD', 'SCR', 'SDG', 'SEK', 'SGD', 'SHP', 'SLE', 'SOS', 'SRD', 'SSP', 'STN', 'SVC',
  'SYP', 'SZL', 'THB', 'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH', 'UGX', 'USD',
  'UYU', 'UZS', 'VED', 'VES', 'VND', 'VUV', 'WST', 'XAF', 'XCD', 'XCG', 'XOF', 'XPF', 'YER', 'ZAR',
  'ZMW', 'ZWG',
]);

/** True for a code of ISO_4217_CURRENCY_CODES ('EUR'); false for anything else, lower case included. */
export function isIso4217CurrencyCode(code: unknown): code is string {
  return typeof code === 'string' && ISO_4217_CURRENCY_CODES.has(code);
}

/** A step of a currency's path in a message's data: a property name, or every entry of a map or an array. */
type PathStep = string | typeof EVERY_ENTRY;
const EVERY_ENTRY = Symbol('every entry');

/**
 * Finds the currencies a message's data may hold, once per schema: the properties it declares with
 * currencySchema, through nested objects, maps (additionalProperties) and arrays (items). Only those
 * are currencies: a free-form map such as account metadata may hold a key named `currency` that is none.
 */
export function currencyPathsOf(schema: JsonSchema): PathStep[][] {
  if (schema === currencySchema) return [[]];
  const paths: PathStep[][] = [];
  const properties = schema['properties'];
  if (isSchema(properties)) {
    for (const [name, property] of Object.entries(properties)) {
      if (isSchema(property)) for (const path of currencyPathsOf(property)) paths.push([name, ...path]);
    }
  }
  for (const entry of [schema['additionalProperties'], schema['items']]) {
    if (isSchema(entry)) for (const path of currencyPathsOf(entry)) paths.push([EVERY_ENTRY, ...path]);
  }
  return paths;
}

/**
 * Every currency of `data` at `paths` (from currencyPathsOf) that is no ISO 4217 code, as
 * `{ path, code }` with a JSON pointer path ('/amount/currency'). A few property reads per message.
 */
export function unknownCurrenciesAt(paths: readonly (readonly PathStep[])[], data: unknown): { path: string; code: string }[] {
  const found: { path: string; code: string }[] = [];
  for (const path of paths) collect(path, 0, data, '', found);
  return found;
}

function collect(path: readonly PathStep[], step: number, value: unknown, at: string, found: { path: string; code: string }[]): void {
  if (step === path.length) {
    if (typeof value === 'string' && !isIso4217CurrencyCode(value)) found.push({ path: at, code: value });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const name = path[step]!;
  if (name === EVERY_ENTRY) {
    for (const [key, entry] of Object.entries(value)) collect(path, step + 1, entry, `${at}/${key}`, found);
  } else if (Object.hasOwn(value, name)) {
    collect(path, step + 1, (value as Record<string, unknown>)[name], `${at}/${name}`, found);
  }
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
