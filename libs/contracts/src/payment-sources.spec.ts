// Proves RequestPayment's and PaymentRequested's payment sources: a tokenised card, an e-wallet id
// and an E.164 phone number are accepted as optional fields (so every message valid before is still
// valid at schemaVersion 1), and the card's schema leaves no field that could carry a PAN or a CVV.
import { randomUUID } from 'node:crypto';
import { validateEnvelope } from './index.js';

const PAN = '4000056655665556';
const card = {
  token: 'tok_AbCdEfGhIjKlMnOpQrStUv',
  fingerprint: 'a'.repeat(64),
  last4: '5556',
  brand: 'visa',
  expMonth: 12,
  expYear: 2030,
};

function request(extra: Record<string, unknown>, type: 'RequestPayment' | 'PaymentRequested' = 'RequestPayment') {
  return validateEnvelope({
    id: randomUUID(),
    type,
    schemaVersion: 1,
    data: {
      paymentId: randomUUID(), channel: 'card_acquiring', merchantId: 'acme', merchantAccountId: 'merchant-acme', payerAccountId: 'wallet-alice',
      amount: { amountMinor: '1250', currency: 'EUR' }, method: 'card',
      ...(type === 'PaymentRequested' ? { requestedAt: '2026-11-27T10:00:00.000Z' } : {}),
      ...extra,
    },
    metadata: { correlationId: 'corr-1', causationId: 'cause-1', occurredAt: '2026-11-27T10:00:00.000Z', producer: 'test' },
  });
}

describe('payment sources on RequestPayment and PaymentRequested', () => {
  it.each(['RequestPayment', 'PaymentRequested'] as const)('%s accepts a message without any source, as before', (type) => {
    expect(request({}, type).valid).toBe(true);
  });

  it.each(['RequestPayment', 'PaymentRequested'] as const)('%s accepts a tokenised card, an e-wallet and a phone number', (type) => {
    expect(request({ card }, type).valid).toBe(true);
    expect(request({ method: 'e_wallet', eWallet: { walletId: 'wallet-42' } }, type).valid).toBe(true);
    expect(request({ method: 'mobile_money', mobileMoney: { phoneNumber: '+254712345678' } }, type).valid).toBe(true);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a PAN as the token', { ...card, token: PAN }],
    ['a PAN as last4', { ...card, last4: PAN }],
    ['a PAN as the fingerprint', { ...card, fingerprint: PAN }],
    ['a PAN beside the card facts', { ...card, pan: PAN }],
    ['a number beside the card facts', { ...card, number: PAN }],
    ['a CVV beside the card facts', { ...card, cvv: '731' }],
    ['an upper-case fingerprint', { ...card, fingerprint: 'A'.repeat(64) }],
    ['a month 13', { ...card, expMonth: 13 }],
    ['an unknown brand name', { ...card, brand: 'diners' }],
  ])('refuses a card with %s', (_label, candidate) => {
    const result = request({ card: candidate });
    expect(result.valid).toBe(false);
    // The refusal names the field, never the value.
    if (!result.valid) expect(result.reason).not.toContain(PAN);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a phone number without +', { mobileMoney: { phoneNumber: '254712345678' } }],
    ['a phone number too long', { mobileMoney: { phoneNumber: '+2547123456789012' } }],
    ['a wallet id with spaces', { eWallet: { walletId: 'wallet 42' } }],
    ['a source with extra fields', { eWallet: { walletId: 'wallet-42', pin: '1234' } }],
  ])('refuses %s', (_label, extra) => {
    expect(request(extra).valid).toBe(false);
  });
});
