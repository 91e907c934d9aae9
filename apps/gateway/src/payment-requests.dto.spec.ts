// Proves the payment request bodies are checked at the edge as the gateway's ValidationPipe checks
// them (whitelist, unknown fields refused): card details by shape (the vault checks the card itself),
// e-wallet ids and E.164 phone numbers, capture mode and authorization lifetime, and the lifecycle
// bodies (capture, refund, review) with amounts as strings of minor units. No message quotes a value.
import 'reflect-metadata';
import { BadRequestException, ValidationPipe, type Type } from '@nestjs/common';
import { EmptyRequest } from './ledger-requests.dto.js';
import { CapturePaymentRequest, CreatePaymentRequest, RefundPaymentRequest, ReviewPaymentRequest } from './payment-requests.dto.js';

const PAN = '4000056655665556';
const pipe = new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false });

async function errorsOf(metatype: Type<unknown>, body: unknown): Promise<string[]> {
  try {
    await pipe.transform(body, { type: 'body', metatype });
    return [];
  } catch (error) {
    if (!(error instanceof BadRequestException)) throw error;
    const message = (error.getResponse() as { message: string[] | string }).message;
    return Array.isArray(message) ? message : [message];
  }
}

const payment = {
  channel: 'card_acquiring',
  merchantId: 'acme',
  merchantAccountId: 'merchant-acme',
  payerAccountId: 'wallet-alice',
  amount: { amountMinor: '1250', currency: 'EUR' },
  method: 'card',
  card: { number: PAN, expMonth: 12, expYear: 2030, cvv: '731' },
};

describe('CreatePaymentRequest', () => {
  it('accepts a card payment, an e-wallet payment and a mobile money payment', async () => {
    expect(await errorsOf(CreatePaymentRequest, payment)).toEqual([]);
    expect(await errorsOf(CreatePaymentRequest, { ...payment, card: { ...payment.card, number: '4000 0566 5566 5556', holderName: 'Ada Lovelace' } })).toEqual([]);
    const { card: _card, ...withoutCard } = payment;
    expect(await errorsOf(CreatePaymentRequest, { ...withoutCard, method: 'e_wallet', eWallet: { walletId: 'wallet-42' } })).toEqual([]);
    expect(await errorsOf(CreatePaymentRequest, { ...withoutCard, method: 'mobile_money', mobileMoney: { phoneNumber: '+254712345678' } })).toEqual([]);
    expect(await errorsOf(CreatePaymentRequest, { ...withoutCard, method: 'wallet', captureMode: 'manual', authorizationTtlMs: 60_000 })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['no amount', { amount: undefined }, /amount must be an object/],
    ['a card number as a JSON number', { card: { ...payment.card, number: Number(PAN) } }, /card\.number must be a string/],
    ['a card number too long to be one', { card: { ...payment.card, number: `${PAN} ${PAN} ${PAN}` } }, /card\.number must be at most 40/],
    ['a month as a string', { card: { ...payment.card, expMonth: '12' } }, /card\.expMonth must be an integer/],
    ['a fractional year', { card: { ...payment.card, expYear: 2030.5 } }, /card\.expYear must be an integer/],
    ['a CVV as a number', { card: { ...payment.card, cvv: 731 } }, /card\.cvv must be a string/],
    ['a CVV too long', { card: { ...payment.card, cvv: '73100' } }, /card\.cvv must be 3 or 4 digits/],
    ['no CVV', { card: { number: PAN, expMonth: 12, expYear: 2030 } }, /card\.cvv/],
    ['an unknown card field', { card: { ...payment.card, pin: '1234' } }, /pin should not exist/],
    ['a card number in the holder name', { card: { ...payment.card, holderName: `A ${PAN}` } }, /holderName must not contain a card number/],
    ['a card number in the description', { description: `order for card ${PAN}` }, /description must not contain a card number/],
    ['a grouped card number in the description', { description: 'card 4000-0566-5566-5556 please' }, /description must not contain a card number/],
    ['a phone number without +', { mobileMoney: { phoneNumber: '0712345678' } }, /E\.164/],
    ['a wallet id with a space', { eWallet: { walletId: 'wallet 42' } }, /eWallet\.walletId must be 1-64/],
    ['an unknown capture mode', { captureMode: 'later' }, /captureMode must be one of/],
    ['an authorization lifetime under a second', { authorizationTtlMs: 999 }, /authorizationTtlMs must not be less than 1000/],
    ['an authorization lifetime over 30 days', { authorizationTtlMs: 30 * 24 * 3_600_000 + 1 }, /authorizationTtlMs must not be greater than/],
  ])('refuses %s, without quoting it', async (_label, change, expected) => {
    const errors = await errorsOf(CreatePaymentRequest, { ...payment, ...change });
    expect(errors.join('\n')).toMatch(expected);
    // Each message names its field once, with its path (`card.number`, never `card.card.number`).
    expect(errors.join('\n')).not.toMatch(/\b(\w+)\.\1\./);
    for (const error of errors) {
      expect(error).not.toContain(PAN);
      expect(error).not.toContain('731');
    }
  });

  it('lets an order number through the description (not a card: Luhn fails or too short)', async () => {
    expect(await errorsOf(CreatePaymentRequest, { ...payment, description: 'order 4000056655665557, ref 123456789012' })).toEqual([]);
  });
});

describe('lifecycle bodies', () => {
  it('capture takes an optional amount in minor units', async () => {
    expect(await errorsOf(CapturePaymentRequest, {})).toEqual([]);
    expect(await errorsOf(CapturePaymentRequest, { amount: { amountMinor: '500', currency: 'EUR' } })).toEqual([]);
    expect((await errorsOf(CapturePaymentRequest, { amount: { amountMinor: '5.00', currency: 'EUR' } })).join()).toMatch(/amountMinor must be a positive integer/);
    expect((await errorsOf(CapturePaymentRequest, { amount: { amountMinor: '0', currency: 'EUR' } })).join()).toMatch(/amountMinor/);
    expect((await errorsOf(CapturePaymentRequest, { amount: { amountMinor: '1'.repeat(20), currency: 'EUR' } })).join()).toMatch(/amountMinor/);
    expect((await errorsOf(CapturePaymentRequest, { amount: { amountMinor: 500, currency: 'EUR' } })).join()).toMatch(/amountMinor/);
    expect((await errorsOf(CapturePaymentRequest, { final: true })).join()).toMatch(/final should not exist/);
  });

  it('void takes no body', async () => {
    expect(await errorsOf(EmptyRequest, {})).toEqual([]);
    expect((await errorsOf(EmptyRequest, { reason: 'customer' })).join()).toMatch(/reason should not exist/);
  });

  it('a refund needs an amount and may name itself with a uuid', async () => {
    expect(await errorsOf(RefundPaymentRequest, { amount: { amountMinor: '300', currency: 'EUR' } })).toEqual([]);
    expect(await errorsOf(RefundPaymentRequest, { refundId: '0b7e5f0e-8a0a-4b8e-9d7e-5c1f0d1e2a3b', amount: { amountMinor: '300', currency: 'EUR' } })).toEqual([]);
    expect((await errorsOf(RefundPaymentRequest, {})).join()).toMatch(/amount/);
    expect((await errorsOf(RefundPaymentRequest, { refundId: 'refund-1', amount: { amountMinor: '300', currency: 'EUR' } })).join()).toMatch(/refundId must be a uuid/);
    expect((await errorsOf(RefundPaymentRequest, { amount: { amountMinor: '300', currency: 'XXY' } })).join()).toMatch(/currency/);
  });

  it('a review is approve or decline, with an optional reviewer', async () => {
    expect(await errorsOf(ReviewPaymentRequest, { decision: 'approve' })).toEqual([]);
    expect(await errorsOf(ReviewPaymentRequest, { decision: 'decline', reviewerId: 'analyst-7' })).toEqual([]);
    expect((await errorsOf(ReviewPaymentRequest, { decision: 'maybe' })).join()).toMatch(/decision must be one of: approve, decline/);
    expect((await errorsOf(ReviewPaymentRequest, {})).join()).toMatch(/decision/);
    expect((await errorsOf(ReviewPaymentRequest, { decision: 'approve', reviewerId: 'bad id' })).join()).toMatch(/reviewerId/);
  });
});
