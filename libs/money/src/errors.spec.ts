// Proves the typed errors: names, fields, MoneyError base, and safe (quoted, truncated) rendering of inputs.
import { CurrencyMismatchError, InvalidAmountError, InvalidArgumentError, MoneyError, UnknownCurrencyError, describeInput } from './errors.js';

describe('typed errors', () => {
  it('carry their name, fields and a message naming the input', () => {
    const errors = [
      [new UnknownCurrencyError('EURO'), 'UnknownCurrencyError', 'Unknown currency code "EURO"'],
      [new CurrencyMismatchError('EUR', 'USD', 'add'), 'CurrencyMismatchError', 'Currency mismatch in add: EUR and USD cannot be combined'],
      [new InvalidAmountError('1,00', 'bad'), 'InvalidAmountError', 'Invalid amount "1,00": bad'],
      [new InvalidArgumentError('ratios', [], 'empty'), 'InvalidArgumentError', 'Invalid ratios []: empty'],
    ] as const;
    for (const [error, name, message] of errors) {
      expect(error).toBeInstanceOf(MoneyError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect(error.message).toContain(message);
    }
  });

  it('render inputs safely and briefly', () => {
    expect(describeInput('x'.repeat(100))).toBe(`"${'x'.repeat(64)}…"`);
    expect(describeInput('a"b')).toBe('"a\\"b"');
    expect(describeInput(12n)).toBe('12n');
    expect(describeInput(10n ** 100n)).toMatch(/^10{63}…n$/);
    expect(describeInput(1.5)).toBe('1.5 (number)');
    expect(describeInput([1n, 'a', [2n]])).toBe('[1n, "a", […]]');
    expect(describeInput(Array.from({ length: 10 }, () => 0n))).toBe('[0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, …]');
    expect(describeInput({ secret: 'x' })).toBe('(object)');
    expect(describeInput(null)).toBe('null');
    expect(describeInput(undefined)).toBe('undefined');
    expect(describeInput(Symbol('s'))).toBe('Symbol(s)');
    expect(describeInput(() => 1)).toBe('(function)');
  });
});
