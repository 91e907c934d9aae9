// Proves the settlement naming conventions: batch streams name their merchant (dashes included) so the
// relay can key by it, batch ids are derived, and account ids stay valid ledger identifiers.
import { IDENTIFIER_PATTERN } from '@clearline/contracts';
import {
  conventionalFeeRevenueAccountId, conventionalSettlementAccountId, merchantOfSettlementStream, settlementBatchId, settlementStreamId,
} from './settlement-naming.js';

describe('settlement naming', () => {
  it('reads the merchant back from a batch stream, even when the merchant id holds dashes', () => {
    expect(settlementStreamId('merchant-1', 'EUR', 3)).toBe('settlement-merchant-1-EUR-3');
    expect(merchantOfSettlementStream(settlementStreamId('shop-eu-west-2', 'JPY', 12))).toBe('shop-eu-west-2');
    expect(() => merchantOfSettlementStream('payment-123')).toThrow('not a settlement batch stream');
  });

  it('derives one batch id per merchant, currency and number', () => {
    expect(settlementBatchId('m', 'EUR', 1)).toBe(settlementBatchId('m', 'EUR', 1));
    expect(new Set([settlementBatchId('m', 'EUR', 1), settlementBatchId('m', 'EUR', 2), settlementBatchId('m', 'USD', 1)]).size).toBe(3);
  });

  it('names accounts by convention, falling back to a derived id beyond 64 characters', () => {
    expect(conventionalSettlementAccountId('merchant-1', 'EUR')).toBe('settlement-merchant-1-EUR');
    expect(conventionalFeeRevenueAccountId('EUR')).toBe('fee-revenue-EUR');
    const long = conventionalSettlementAccountId('m'.repeat(64), 'EUR');
    expect(long).toMatch(new RegExp(IDENTIFIER_PATTERN));
    expect(long).toMatch(/^settlement-[0-9a-f-]{36}$/);
  });
});
