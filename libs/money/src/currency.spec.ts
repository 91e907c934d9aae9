// Proves the ISO 4217 table: exponents 0/2/3 for the payment currencies, strict lookups, typed errors.
import { ISO_4217_CURRENCY_CODES } from '@clearline/contracts';
import { CURRENCY_CODES, currencyOf, isCurrencyCode } from './currency.js';
import { UnknownCurrencyError } from './errors.js';

describe('currency table', () => {
  it('names exactly the codes libs/contracts accepts on a message (the list there is a copy, since contracts import no other lib)', () => {
    expect([...CURRENCY_CODES]).toEqual([...ISO_4217_CURRENCY_CODES].sort());
  });

  it.each([
    ['JPY', 0], ['KRW', 0], ['VND', 0], ['CLP', 0], ['ISK', 0], ['XOF', 0], ['XAF', 0], ['UGX', 0], ['PYG', 0],
    ['EUR', 2], ['USD', 2], ['GBP', 2], ['CNY', 2], ['CHF', 2], ['INR', 2], ['BRL', 2], ['HUF', 2], ['IDR', 2],
    ['BHD', 3], ['KWD', 3], ['OMR', 3], ['JOD', 3], ['TND', 3], ['IQD', 3], ['LYD', 3],
  ] as const)('%s has exponent %i', (code, exponent) => {
    const currency = currencyOf(code);
    expect(currency).toEqual({ code, exponent, minorPerMajor: 10n ** BigInt(exponent) });
    expect(Object.isFrozen(currency)).toBe(true);
  });

  it('lists only three-letter upper-case codes, sorted and unique, with exponents 0, 2 or 3', () => {
    expect(CURRENCY_CODES.length).toBeGreaterThanOrEqual(150);
    expect([...CURRENCY_CODES].sort()).toEqual(CURRENCY_CODES);
    expect(new Set(CURRENCY_CODES).size).toBe(CURRENCY_CODES.length);
    for (const code of CURRENCY_CODES) {
      expect(code).toMatch(/^[A-Z]{3}$/);
      expect([0, 2, 3]).toContain(currencyOf(code).exponent);
    }
    expect(Object.isFrozen(CURRENCY_CODES)).toBe(true);
  });

  it('leaves out funds, metals, test codes and withdrawn currencies', () => {
    for (const code of ['XAU', 'XTS', 'XXX', 'XDR', 'CLF', 'UYW', 'HRK', 'SLL', 'ZWL', 'VEF']) {
      expect(isCurrencyCode(code)).toBe(false);
    }
  });

  it('isCurrencyCode is strict: exact upper case, strings only, no prototype keys', () => {
    expect(isCurrencyCode('EUR')).toBe(true);
    for (const input of ['eur', 'Eur', ' EUR', 'EUR ', 'EURO', '', 'constructor', '__proto__', 'toString', 42, null, undefined, {}, ['EUR']]) {
      expect(isCurrencyCode(input)).toBe(false);
    }
  });

  it('currencyOf throws UnknownCurrencyError naming the input', () => {
    expect(() => currencyOf('XYZ')).toThrow(UnknownCurrencyError);
    expect(() => currencyOf('XYZ')).toThrow('Unknown currency code "XYZ"');
    expect(() => currencyOf('eur')).toThrow('"eur"');
    expect(() => currencyOf('__proto__')).toThrow(UnknownCurrencyError);
    expect(() => currencyOf(42 as unknown as string)).toThrow('Unknown currency code 42 (number)');
    try {
      currencyOf('ABC');
    } catch (error) {
      expect(error).toBeInstanceOf(UnknownCurrencyError);
      expect((error as UnknownCurrencyError).name).toBe('UnknownCurrencyError');
      expect((error as UnknownCurrencyError).input).toBe('ABC');
    }
  });
});
