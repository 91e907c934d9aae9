// Proves card validation and tokenisation: the Luhn check, the brand from IIN ranges (with
// brand-specific lengths), expiry and CVV rules with stable reason codes, a fingerprint that is
// HMAC-SHA256 of the PAN under the key (same card, same fingerprint; other key, other fingerprint),
// and tokens that are random and say nothing about the card.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { cardBrandOf } from './card-brand.js';
import { CardValidationError, type CardValidationReason } from './card-errors.js';
import { CARD_TOKEN_PATTERN, cardFingerprint, cardTokenOf, luhnValid, validateCard, type CardInput } from './card-tokenization.js';
import { SecretString } from './secret-string.js';

const NOW = Date.UTC(2026, 10, 27);
const FINGERPRINT_KEY = Buffer.alloc(32, 7);

/** Appends the Luhn check digit to a prefix padded with zeros to `length - 1` digits. */
function withCheckDigit(prefix: string, length: number): string {
  const body = prefix.padEnd(length - 1, '0');
  for (let digit = 0; digit <= 9; digit++) if (luhnValid(body + digit)) return body + digit;
  throw new Error('unreachable: one of ten check digits always fits');
}

function reasonOf(input: Partial<CardInput>): CardValidationReason | 'valid' {
  try {
    validateCard({ pan: '4242424242424242', expMonth: 12, expYear: 2030, ...input }, NOW);
    return 'valid';
  } catch (error) {
    if (error instanceof CardValidationError) return error.reason;
    throw error;
  }
}

describe('luhnValid', () => {
  it.each(['4242424242424242', '378282246310005', '6011111111111117', '5555555555554444', '79927398713'])('accepts %s', (pan) => {
    expect(luhnValid(pan)).toBe(true);
  });

  it.each(['4242424242424241', '79927398710', '', '42a2'])('refuses %j', (pan) => {
    expect(luhnValid(pan)).toBe(false);
  });

  it('catches every single-digit typo', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{15}$/), fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 9 }), (body, position, delta) => {
        const pan = withCheckDigit(body, 16);
        const typo = pan.slice(0, position) + String((Number(pan[position]) + delta) % 10) + pan.slice(position + 1);
        expect(luhnValid(pan)).toBe(true);
        expect(luhnValid(typo)).toBe(false);
      }),
    );
  });
});

describe('cardBrandOf', () => {
  it.each([
    ['4242424242424242', 'visa'],
    ['4222222222222', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['2223003122003222', 'mastercard'],
    ['2720990000000007', 'mastercard'],
    ['378282246310005', 'amex'],
    ['341111111111111', 'amex'],
    ['6011111111111117', 'discover'],
    [withCheckDigit('644', 16), 'discover'],
    [withCheckDigit('65', 16), 'discover'],
    [withCheckDigit('622126', 16), 'discover'],
    [withCheckDigit('622925', 16), 'discover'],
    ['6200000000000005', 'unionpay'],
    [withCheckDigit('622125', 16), 'unionpay'],
    [withCheckDigit('622926', 16), 'unionpay'],
    [withCheckDigit('81', 16), 'unionpay'],
    ['3566002020360505', 'jcb'],
    [withCheckDigit('3528', 16), 'jcb'],
    [withCheckDigit('3589', 16), 'jcb'],
    [withCheckDigit('3590', 16), 'unknown'],
    [withCheckDigit('2721', 16), 'unknown'],
    [withCheckDigit('56', 16), 'unknown'],
    [withCheckDigit('9', 16), 'unknown'],
  ])('%s is %s', (pan, brand) => {
    expect(cardBrandOf(pan)).toBe(brand);
  });
});

describe('validateCard', () => {
  it('normalises grouping, two-digit years, and wraps the secrets', () => {
    const card = validateCard({ pan: ' 4242 4242-4242 4242 ', expMonth: 3, expYear: 29, cvv: '123' }, NOW);
    expect(card).toMatchObject({ brand: 'visa', last4: '4242', expMonth: 3, expYear: 2029 });
    expect(card.pan).toBeInstanceOf(SecretString);
    expect(card.pan.reveal()).toBe('4242424242424242');
    expect(card.cvv?.reveal()).toBe('123');
  });

  it('accepts a card expiring this month (valid through its last day)', () => {
    expect(reasonOf({ expMonth: 11, expYear: 2026 })).toBe('valid');
  });

  it.each<[string, Partial<CardInput>, CardValidationReason]>([
    ['letters', { pan: '4242 4242 4242 424x' }, 'pan_format'],
    ['an empty number', { pan: '' }, 'pan_format'],
    ['a non-string number', { pan: 4242424242424242 as unknown as string }, 'pan_format'],
    ['a huge input', { pan: '4'.repeat(100) }, 'pan_format'],
    ['a mistyped digit', { pan: '4242424242424241' }, 'pan_luhn'],
    ['a visa of 15 digits', { pan: withCheckDigit('4', 15) }, 'pan_length'],
    ['an amex of 16 digits', { pan: withCheckDigit('37', 16) }, 'pan_length'],
    ['an unknown brand of 11 digits', { pan: withCheckDigit('9', 11) }, 'pan_length'],
    ['20 digits', { pan: withCheckDigit('4', 20) }, 'pan_length'],
    ['month 13', { expMonth: 13 }, 'expiry_month'],
    ['month 0', { expMonth: 0 }, 'expiry_month'],
    ['a fractional month', { expMonth: 1.5 }, 'expiry_month'],
    ['year 1999', { expYear: 1999 }, 'expiry_year'],
    ['a year too far ahead', { expYear: 2099 }, 'expiry_year'],
    ['last month', { expMonth: 10, expYear: 2026 }, 'card_expired'],
    ['last year', { expMonth: 12, expYear: 25 }, 'card_expired'],
    ['a 2-digit CVV', { cvv: '12' }, 'cvv_format'],
    ['a 4-digit CVV on a visa', { cvv: '1234' }, 'cvv_format'],
    ['a 3-digit CVV on an amex', { pan: '378282246310005', cvv: '123' }, 'cvv_format'],
    ['a CVV with letters', { cvv: '12a' }, 'cvv_format'],
  ])('refuses %s', (_name, input, reason) => {
    expect(reasonOf(input)).toBe(reason);
  });

  it('accepts a 4-digit CVV on an amex', () => {
    expect(reasonOf({ pan: '378282246310005', cvv: '1234' })).toBe('valid');
  });
});

describe('cardFingerprint and cardTokenOf', () => {
  const card = validateCard({ pan: '4242424242424242', expMonth: 12, expYear: 2030 }, NOW);

  it('is HMAC-SHA256 of the PAN digits under the key, in hex', () => {
    const expected = createHmac('sha256', FINGERPRINT_KEY).update('4242424242424242').digest('hex');
    expect(cardFingerprint(card.pan, FINGERPRINT_KEY)).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for the same card however it was typed, and differs by card and by key', () => {
    const typedAgain = validateCard({ pan: '4242-4242-4242-4242', expMonth: 1, expYear: 2031 }, NOW);
    const other = validateCard({ pan: '5555555555554444', expMonth: 12, expYear: 2030 }, NOW);
    expect(cardFingerprint(typedAgain.pan, FINGERPRINT_KEY)).toBe(cardFingerprint(card.pan, FINGERPRINT_KEY));
    expect(cardFingerprint(other.pan, FINGERPRINT_KEY)).not.toBe(cardFingerprint(card.pan, FINGERPRINT_KEY));
    expect(cardFingerprint(card.pan, Buffer.alloc(32, 8))).not.toBe(cardFingerprint(card.pan, FINGERPRINT_KEY));
  });

  it('refuses a short key', () => {
    expect(() => cardFingerprint(card.pan, Buffer.alloc(16))).toThrow(/32 bytes/);
  });

  it('gives random opaque tokens with the safe facts of the card', () => {
    const tokens = new Set<string>();
    for (let index = 0; index < 1_000; index++) {
      const token = cardTokenOf(card, FINGERPRINT_KEY);
      expect(token.token).toMatch(CARD_TOKEN_PATTERN);
      expect(token.token).not.toContain('4242');
      tokens.add(token.token);
    }
    expect(tokens.size).toBe(1_000);
    expect(cardTokenOf(card, FINGERPRINT_KEY, 'tok_AAAAAAAAAAAAAAAAAAAAAA')).toEqual({
      token: 'tok_AAAAAAAAAAAAAAAAAAAAAA',
      fingerprint: cardFingerprint(card.pan, FINGERPRINT_KEY),
      last4: '4242',
      brand: 'visa',
      expMonth: 12,
      expYear: 2030,
    });
  });
});
