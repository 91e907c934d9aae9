// Proves rateConvert between currencies of different exponents, its rounding, and refusal of bad rates.
import { rateConvert } from './conversion.js';
import { InvalidArgumentError, UnknownCurrencyError } from './errors.js';
import { moneyFromMinor } from './money.js';

describe('rateConvert', () => {
  it('converts JPY (exponent 0) to EUR (exponent 2): 1000 JPY at 0.0062 is 6.20 EUR', () => {
    expect(rateConvert(moneyFromMinor(1000n, 'JPY'), 'EUR', { numerator: 62n, denominator: 10_000n })).toEqual(moneyFromMinor(620n, 'EUR'));
  });

  it('converts EUR to JPY: 12.34 EUR at 162.35 is 2003.4 -> 2003 JPY', () => {
    expect(rateConvert(moneyFromMinor(1234n, 'EUR'), 'JPY', { numerator: 16_235n, denominator: 100n })).toEqual(moneyFromMinor(2003n, 'JPY'));
    expect(rateConvert(moneyFromMinor(1234n, 'EUR'), 'JPY', { numerator: 16_235n, denominator: 100n }, 'up')).toEqual(moneyFromMinor(2004n, 'JPY'));
  });

  it('converts BHD (exponent 3) to USD: 1.000 BHD at 2.65 is 2.65 USD, and back', () => {
    expect(rateConvert(moneyFromMinor(1000n, 'BHD'), 'USD', { numerator: 265n, denominator: 100n })).toEqual(moneyFromMinor(265n, 'USD'));
    // 1.00 USD at 0.377 = 0.377 BHD.
    expect(rateConvert(moneyFromMinor(100n, 'USD'), 'BHD', { numerator: 377n, denominator: 1000n })).toEqual(moneyFromMinor(377n, 'BHD'));
  });

  it('rounds with the stated mode, half-even by default', () => {
    // 1 JPY at 0.005 EUR = 0.5 cent: tie.
    const oneYen = moneyFromMinor(1n, 'JPY');
    const rate = { numerator: 5n, denominator: 1000n };
    expect(rateConvert(oneYen, 'EUR', rate).amountMinor).toBe(0n);
    expect(rateConvert(oneYen, 'EUR', rate, 'half-up').amountMinor).toBe(1n);
    expect(rateConvert(moneyFromMinor(-1n, 'JPY'), 'EUR', rate, 'floor').amountMinor).toBe(-1n);
  });

  it('is the identity for the same currency at 1/1 and exact for huge amounts', () => {
    const huge = moneyFromMinor(10n ** 30n + 7n, 'EUR');
    expect(rateConvert(huge, 'EUR', { numerator: 1n, denominator: 1n })).toEqual(huge);
    expect(rateConvert(huge, 'USD', { numerator: 1n, denominator: 1n })).toEqual(moneyFromMinor(10n ** 30n + 7n, 'USD'));
  });

  it.each([
    [{ numerator: 0n, denominator: 1n }, 'numerator'],
    [{ numerator: -1n, denominator: 1n }, 'numerator'],
    [{ numerator: 1n, denominator: 0n }, 'denominator'],
    [{ numerator: 1n, denominator: -2n }, 'denominator'],
    [{ numerator: 1.1, denominator: 1n }, 'numerator'],
    [null, 'exchange rate'],
  ])('refuses the rate %p', (rate, message) => {
    const call = () => rateConvert(moneyFromMinor(1n, 'EUR'), 'USD', rate as unknown as { numerator: bigint; denominator: bigint });
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it('refuses unknown target currencies and bad rounding modes', () => {
    expect(() => rateConvert(moneyFromMinor(1n, 'EUR'), 'XYZ', { numerator: 1n, denominator: 1n })).toThrow(UnknownCurrencyError);
    expect(() => rateConvert(moneyFromMinor(1n, 'EUR'), 'USD', { numerator: 1n, denominator: 1n }, 'round' as never)).toThrow(InvalidArgumentError);
  });
});
