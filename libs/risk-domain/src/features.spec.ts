// Proves the feature computations: velocity counts and amounts per window and entity, distinct cards
// per device and IP, the payer's amount history (mean, deviation, ratio, z-score in integers), account
// age, first use of a device, idempotency per payment id, and the per-currency large-amount limits.
import { largeAmountLimitMinor, ratioOf } from './amount-limits.js';
import { amountVersusHistory, integerSquareRoot, summariseHistory, type RiskPayment } from './features.js';
import { InMemoryFeatureStore } from './in-memory-feature-store.js';
import { aPayment } from './test-payments.js';

const T0 = Date.UTC(2025, 0, 6, 12);
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Observes the payments in order and returns the features of the last one. */
function given(...payments: Partial<RiskPayment>[]) {
  const store = new InMemoryFeatureStore();
  const observed = payments.map((changes, index) => store.observe(aPayment({ paymentId: `p-${index}`, ...changes })));
  return { store, last: observed[observed.length - 1]! };
}

describe('velocity', () => {
  it('given a first payment, then every window counts it once with its amount', () => {
    const { last } = given({ amountMinor: 1_250n });
    expect(last.velocity.payer).toEqual({ '1m': { count: 1, amountMinor: 1_250n }, '1h': { count: 1, amountMinor: 1_250n }, '24h': { count: 1, amountMinor: 1_250n } });
  });

  it('given payments 30 s, 30 min and 5 h before, then 1m, 1h and 24h count what falls in each', () => {
    const { last } = given(
      { requestedAtMs: T0 - 5 * HOUR, amountMinor: 1n }, { requestedAtMs: T0 - 30 * MINUTE, amountMinor: 10n },
      { requestedAtMs: T0 - 30 * SECOND, amountMinor: 100n }, { requestedAtMs: T0, amountMinor: 1_000n },
    );
    expect(last.velocity.payer?.['1m']).toEqual({ count: 2, amountMinor: 1_100n });
    expect(last.velocity.payer?.['1h']).toEqual({ count: 3, amountMinor: 1_110n });
    expect(last.velocity.payer?.['24h']).toEqual({ count: 4, amountMinor: 1_111n });
  });

  it('given a payment 61 s before, then the 1m window no longer counts it (buckets of one second)', () => {
    expect(given({ requestedAtMs: T0 - 61 * SECOND }, {}).last.velocity.payer?.['1m'].count).toBe(1);
    expect(given({ requestedAtMs: T0 - 59 * SECOND }, {}).last.velocity.payer?.['1m'].count).toBe(2);
  });

  it('counts per entity: card, device, IP and merchant each on their own id', () => {
    const { last } = given(
      { payerAccountId: 'other', cardFingerprint: 'card-1', deviceId: 'device-2', ipAddress: '198.51.100.7', merchantId: 'merchant-2' },
      { cardFingerprint: 'card-1' },
    );
    expect(last.velocity.card?.['1h'].count).toBe(2);
    expect(last.velocity.device?.['1h'].count).toBe(1);
    expect(last.velocity.ip?.['1h'].count).toBe(2);
    expect(last.velocity.merchant?.['1h'].count).toBe(1);
    expect(last.velocity.payer?.['1h'].count).toBe(1);
  });

  it('has no velocity for an entity the payment does not name', () => {
    const { last } = given({ deviceId: null, ipAddress: null });
    expect([last.velocity.card, last.velocity.device, last.velocity.ip]).toEqual([null, null, null]);
  });

  it('sums amounts per currency: a JPY payment does not add yen to a euro sum', () => {
    const { last } = given({ currency: 'JPY', amountMinor: 5_000n }, { amountMinor: 700n });
    expect(last.velocity.payer?.['1h']).toEqual({ count: 2, amountMinor: 700n });
  });
});

describe('distinct cards (card testing)', () => {
  it('given five cards on one device within the hour, then the device and its IP count five', () => {
    const { last } = given(...[1, 2, 3, 4, 5].map((card) => ({ cardFingerprint: `card-${card}`, method: 'card', requestedAtMs: T0 + card * SECOND })));
    expect(last.distinctCardsPerDevice).toEqual({ last1h: 5, last24h: 5 });
    expect(last.distinctCardsPerIp).toEqual({ last1h: 5, last24h: 5 });
  });

  it('given a card used two hours ago, then it counts in 24h only', () => {
    const { last } = given({ cardFingerprint: 'old', requestedAtMs: T0 - 2 * HOUR }, { cardFingerprint: 'new' });
    expect(last.distinctCardsPerDevice).toEqual({ last1h: 1, last24h: 2 });
  });
});

describe('payer amount history', () => {
  it('given no earlier payment, then there is no mean, ratio or z-score', () => {
    const { last } = given({});
    expect(last.payerHistory).toEqual({ previousCount: 0, meanMinor: null, standardDeviationMinor: null });
    expect(amountVersusHistory(1_000n, last.payerHistory)).toEqual({ ratioToMean: null, zScore: null });
  });

  it('given 1,000 and 3,000 before, then 6,000 is 3x the mean and 4 deviations above it', () => {
    const { last } = given({ amountMinor: 1_000n, requestedAtMs: T0 - HOUR }, { amountMinor: 3_000n, requestedAtMs: T0 - MINUTE }, { amountMinor: 6_000n });
    expect(last.payerHistory).toEqual({ previousCount: 2, meanMinor: 2_000n, standardDeviationMinor: 1_000n });
    expect(amountVersusHistory(6_000n, last.payerHistory)).toEqual({ ratioToMean: 3, zScore: 4 });
  });

  it('keeps integers exact beyond 2^53', () => {
    const big = 2n ** 60n;
    expect(summariseHistory([big, big + 2n])).toEqual({ previousCount: 2, meanMinor: big + 1n, standardDeviationMinor: 1n });
    expect(integerSquareRoot(10n ** 30n)).toBe(10n ** 15n);
  });
});

describe('account age and devices', () => {
  it('given the payer first paid 3 hours ago, then the account is 3 hours old', () => {
    expect(given({ requestedAtMs: T0 - 3 * HOUR }, {}).last.accountAgeMs).toBe(3 * HOUR);
  });

  it('given the payer used the device before, then it is not a first use; a new device is', () => {
    expect(given({ requestedAtMs: T0 - HOUR }, {}).last.firstUseOfDevice).toBe(false);
    expect(given({ requestedAtMs: T0 - HOUR }, { deviceId: 'device-new' }).last.firstUseOfDevice).toBe(true);
    expect(given({ deviceId: null }).last.firstUseOfDevice).toBeNull();
  });
});

describe('idempotency', () => {
  it('given the same payment observed twice, then the second answer is the first and nothing counts twice', () => {
    const store = new InMemoryFeatureStore();
    const first = store.observe(aPayment());
    expect(store.observe(aPayment())).toBe(first);
    expect(store.observe(aPayment({ paymentId: 'next' })).velocity.payer?.['1m'].count).toBe(2);
  });
});

describe('large-amount limits per currency', () => {
  it.each([
    ['EUR', 500_000n], ['USD', 550_000n], ['JPY', 800_000n], ['KRW', 7_500_000n], ['VND', 140_000_000n],
    ['IDR', 8_800_000_000n], ['CLP', 5_100_000n], ['BHD', 2_050_000n], ['KWD', 1_650_000n],
  ])('%s defaults to about 5,000 EUR in its own minor units: %s', (currency, limitMinor) => {
    expect(largeAmountLimitMinor(currency)).toBe(limitMinor);
  });

  it('an override in major units wins, converted with the currency exponent', () => {
    expect(largeAmountLimitMinor('BHD', { BHD: '100.5' })).toBe(100_500n);
    expect(largeAmountLimitMinor('JPY', { JPY: '1000' })).toBe(1_000n);
  });

  it('a currency missing from the table falls back to 5,000 major units', () => {
    expect(largeAmountLimitMinor('SEK')).toBe(5_700_000n);
    expect(largeAmountLimitMinor('MUR')).toBe(500_000n);
  });

  it('ratios keep six decimals', () => {
    expect(ratioOf(1n, 3n)).toBe(0.333333);
    expect(() => ratioOf(1n, 0n)).toThrow(RangeError);
  });
});
