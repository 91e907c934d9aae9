// Proves that the payment process's timeouts and the timer scheduler's settings default to
// docs/payments.md's values, take the environment's, and refuse a value out of bounds at boot.
import { DEFAULT_PAYMENT_TIMEOUTS } from '@clearline/payments-domain';
import { ConfigurationError } from '@clearline/service-runtime';
import { paymentTimeouts, settlementSettings, settlementWindowEnd, timeoutSchedulerSettings } from './payments.config.js';

describe('payments configuration', () => {
  it('defaults to the documented timeouts: risk 5 s, review 24 h, ledger 30 s with 3 sends, connector 30 s', () => {
    expect(paymentTimeouts({})).toEqual(DEFAULT_PAYMENT_TIMEOUTS);
    expect(DEFAULT_PAYMENT_TIMEOUTS).toEqual({ riskAnswerMs: 5_000, reviewMs: 86_400_000, ledgerAnswerMs: 30_000, ledgerMaxSends: 3, connectorAnswerMs: 30_000 });
    expect(timeoutSchedulerSettings({})).toEqual({ intervalMs: 1_000, batchSize: 100, requestQuietMs: 30_000 });
  });

  it('takes the values the environment gives', () => {
    expect(paymentTimeouts({ PAYMENTS_RISK_TIMEOUT_MS: '2000', PAYMENTS_LEDGER_MAX_SENDS: '5' })).toMatchObject({ riskAnswerMs: 2_000, ledgerMaxSends: 5 });
    expect(timeoutSchedulerSettings({ PAYMENTS_TIMEOUT_INTERVAL_MS: '200' })).toMatchObject({ intervalMs: 200 });
  });

  it.each([
    ['PAYMENTS_RISK_TIMEOUT_MS', '5s'],
    ['PAYMENTS_LEDGER_TIMEOUT_MS', '0'],
    ['PAYMENTS_LEDGER_MAX_SENDS', '11'],
    ['PAYMENTS_REVIEW_TIMEOUT_MS', '1.5'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => paymentTimeouts({ [name]: value })).toThrow(ConfigurationError);
    expect(() => paymentTimeouts({ [name]: value })).toThrow(name);
  });

  it('refuses a timer batch larger than one publish', () => {
    expect(() => timeoutSchedulerSettings({ PAYMENTS_TIMEOUT_BATCH_SIZE: '100000000' })).toThrow('PAYMENTS_TIMEOUT_BATCH_SIZE');
  });

  it('settles daily by default, windows aligned to 00:00 UTC; a short interval for tests', () => {
    expect(settlementSettings({})).toEqual({ intervalMs: 86_400_000, pollIntervalMs: 10_000, closeBatchSize: 50 });
    expect(settlementSettings({ PAYMENTS_SETTLEMENT_INTERVAL_MS: '2000' })).toMatchObject({ intervalMs: 2_000, pollIntervalMs: 2_000 });
    expect(() => settlementSettings({ PAYMENTS_SETTLEMENT_INTERVAL_MS: '0' })).toThrow('PAYMENTS_SETTLEMENT_INTERVAL_MS');
    expect(settlementWindowEnd(new Date('2026-11-27T13:45:00Z'), 86_400_000).toISOString()).toBe('2026-11-28T00:00:00.000Z');
    expect(settlementWindowEnd(new Date('2026-11-28T00:00:00Z'), 86_400_000).toISOString()).toBe('2026-11-29T00:00:00.000Z');
  });
});
