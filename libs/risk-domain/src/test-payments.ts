import type { RiskPayment } from './features.js';

/** A quiet EUR wallet payment at noon; tests change what they need. Not exported from index.ts. */
export function aPayment(changes: Partial<RiskPayment> = {}): RiskPayment {
  return {
    paymentId: 'payment-1', merchantId: 'merchant-1', payerAccountId: 'payer-1', amountMinor: 1_000n, currency: 'EUR',
    method: 'wallet', channel: 'e_wallet', requestedAtMs: Date.UTC(2025, 0, 6, 12), deviceId: 'device-1', ipAddress: '198.51.100.7',
    cardFingerprint: null, cardCountry: null, ipCountry: null, merchantCategory: null, ...changes,
  };
}
