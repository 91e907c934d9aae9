// Proves the edge's rules on payment sources: each method takes exactly its own source object; a
// refused card becomes a problem naming the field and reason; free text holding a card number is
// spotted (Luhn-valid runs of 13-19 digits, grouped or not); the idempotency store's view of a body
// holds the card's fingerprint instead of its number and no CVV; and command ids derived from the
// Idempotency-Key are stable, distinct per payment and command, and valid contract identifiers.
import { CardValidationError } from '@clearline/cards';
import { IDENTIFIER_PATTERN, isUuid } from '@clearline/contracts';
import { commandIdFor, refundIdFor } from './command-ids.js';
import { cardProblem, containsCardNumber, paymentSourceProblem, withoutCardSecrets } from './payment-sources.js';

const PAN = '4000056655665556';

describe('paymentSourceProblem', () => {
  it.each<[string, Record<string, unknown>]>([
    ['wallet', {}],
    ['card', { card: {} }],
    ['e_wallet', { eWallet: {} }],
    ['mobile_money', { mobileMoney: {} }],
  ])('accepts %s with its own source', (method, source) => {
    expect(paymentSourceProblem({ method: method as 'wallet', ...source })).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['card', {}, "method 'card' needs 'card'"],
    ['mobile_money', {}, "method 'mobile_money' needs 'mobileMoney'"],
    ['wallet', { card: {} }, "method 'wallet' takes no source object; remove 'card'"],
    ['e_wallet', { eWallet: {}, mobileMoney: {} }, "method 'e_wallet' takes only 'eWallet'; remove 'mobileMoney'"],
  ])('refuses %s with %j', (method, source, problem) => {
    expect(paymentSourceProblem({ method: method as 'wallet', ...source })).toBe(problem);
  });
});

describe('cardProblem', () => {
  it('names the field and the reason', () => {
    expect(cardProblem(new CardValidationError('pan_luhn', 'card number fails the Luhn check: a digit is mistyped'))).toEqual({
      detail: 'card.number: card number fails the Luhn check: a digit is mistyped',
      extensions: { reason: 'pan_luhn', errors: ['card.number: card number fails the Luhn check: a digit is mistyped'] },
    });
    expect(cardProblem(new CardValidationError('card_expired', 'card has expired')).detail).toBe('card.expYear: card has expired');
    expect(cardProblem(new CardValidationError('cvv_format', 'x')).extensions.reason).toBe('cvv_format');
  });
});

describe('containsCardNumber', () => {
  it.each([PAN, `pay ${PAN} now`, '4000 0566 5566 5556', '4000-0566-5566-5556', '378282246310005', 'x4242424242424242x'])('spots %j', (text) => {
    expect(containsCardNumber(text)).toBe(true);
  });

  it.each(['', 'order 12345', '4000056655665557', '123456789012', '40000566556655561234', 'phone +254712345678'])('lets %j through', (text) => {
    expect(containsCardNumber(text)).toBe(false);
  });
});

describe('withoutCardSecrets', () => {
  const fingerprintOf = (cardNumber: string) => `fp(${cardNumber.length})`;

  it('replaces the number by its fingerprint and drops the CVV', () => {
    const body = { method: 'card', card: { number: '4000 0566 5566 5556', expMonth: 12, expYear: 2030, cvv: '731', holderName: 'Ada' } };
    const seen: string[] = [];
    const result = withoutCardSecrets(body, (cardNumber) => (seen.push(cardNumber), fingerprintOf(cardNumber)));
    expect(result).toEqual({ method: 'card', card: { numberFingerprint: 'fp(16)', expMonth: 12, expYear: 2030, holderName: 'Ada' } });
    expect(seen).toEqual([PAN]);
    expect(JSON.stringify(result)).not.toContain('731');
    expect(body.card.number).toBe('4000 0566 5566 5556');
  });

  it('fingerprints a number sent as a JSON number too', () => {
    expect(JSON.stringify(withoutCardSecrets({ card: { number: Number(PAN) } }, fingerprintOf))).not.toContain(PAN);
  });

  it.each([null, 'text', [1, 2], { method: 'wallet' }, { card: 'x' }])('leaves %j as it is', (body) => {
    expect(withoutCardSecrets(body, fingerprintOf)).toBe(body);
  });
});

describe('ids derived from the Idempotency-Key', () => {
  const paymentId = '0b7e5f0e-8a0a-4b8e-9d7e-5c1f0d1e2a3b';

  it('are stable for a retry, distinct per payment and command, and fit the contracts', () => {
    const longKey = 'k'.repeat(255);
    const id = commandIdFor(paymentId, 'CapturePayment', longKey);
    expect(commandIdFor(paymentId, 'CapturePayment', longKey)).toBe(id);
    expect(commandIdFor(paymentId, 'VoidPayment', longKey)).not.toBe(id);
    expect(commandIdFor('1b7e5f0e-8a0a-4b8e-9d7e-5c1f0d1e2a3b', 'CapturePayment', longKey)).not.toBe(id);
    expect(id).toMatch(new RegExp(IDENTIFIER_PATTERN));
    expect(refundIdFor(paymentId, 'key-1')).toBe(refundIdFor(paymentId, 'key-1'));
    expect(refundIdFor(paymentId, 'key-1')).not.toBe(refundIdFor(paymentId, 'key-2'));
    expect(isUuid(refundIdFor(paymentId, 'key-1'))).toBe(true);
  });
});
