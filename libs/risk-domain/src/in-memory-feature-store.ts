import {
  bucketOf, DISTINCT_CARD_WINDOWS_MS, PAYER_HISTORY_LENGTH, summariseHistory, VELOCITY_AMOUNT_CAP_MINOR, VELOCITY_ENTITIES,
  VELOCITY_WINDOWS, velocityEntitiesOf, type DistinctCards, type EntityVelocity, type RiskFeatures, type RiskPayment,
  type VelocityEntity, type VelocityWindowName,
} from './features.js';

interface Bucket {
  count: number;
  amountsMinor: Map<string, bigint>;
}

/**
 * The reference feature store: the same windows, caps and idempotency as apps/risk's Redis store,
 * in memory, for the simulator, training and backtests (and as the oracle the Redis store is tested
 * against). `observe` records a payment and returns its features, this payment included in the
 * velocity; observing the same payment id again returns the first answer and counts nothing twice.
 */
export class InMemoryFeatureStore {
  private readonly observed = new Map<string, RiskFeatures>();
  private readonly buckets = new Map<string, Map<number, Bucket>>();
  private readonly cardsSeen = new Map<string, Map<string, number>>();
  private readonly history = new Map<string, bigint[]>();
  private readonly firstSeenMs = new Map<string, number>();
  private readonly devicesFirstSeenMs = new Map<string, Map<string, number>>();

  observe(payment: RiskPayment): RiskFeatures {
    const known = this.observed.get(payment.paymentId);
    if (known) return known;
    const features: RiskFeatures = {
      velocity: this.recordVelocity(payment),
      distinctCardsPerDevice: payment.deviceId === null ? null : this.recordCard(`device:${payment.deviceId}`, payment),
      distinctCardsPerIp: payment.ipAddress === null ? null : this.recordCard(`ip:${payment.ipAddress}`, payment),
      payerHistory: this.recordHistory(payment),
      accountAgeMs: this.recordFirstSeen(payment),
      firstUseOfDevice: payment.deviceId === null ? null : this.recordDevice(payment.payerAccountId, payment.deviceId, payment.requestedAtMs),
    };
    this.observed.set(payment.paymentId, features);
    return features;
  }

  private recordVelocity(payment: RiskPayment): Record<VelocityEntity, EntityVelocity | null> {
    const ids = velocityEntitiesOf(payment);
    const amountMinor = payment.amountMinor < VELOCITY_AMOUNT_CAP_MINOR ? payment.amountMinor : VELOCITY_AMOUNT_CAP_MINOR;
    const velocity = {} as Record<VelocityEntity, EntityVelocity | null>;
    for (const entity of VELOCITY_ENTITIES) {
      const id = ids[entity];
      if (id === undefined) {
        velocity[entity] = null;
        continue;
      }
      const totals = {} as Record<VelocityWindowName, { count: number; amountMinor: bigint }>;
      for (const window of VELOCITY_WINDOWS) {
        totals[window.name] = this.addToWindow(`${entity}:${id}:${window.name}`, window, payment.requestedAtMs, payment.currency, amountMinor);
      }
      velocity[entity] = totals;
    }
    return velocity;
  }

  private addToWindow(key: string, window: (typeof VELOCITY_WINDOWS)[number], timeMs: number, currency: string, amountMinor: bigint) {
    let buckets = this.buckets.get(key);
    if (!buckets) this.buckets.set(key, (buckets = new Map()));
    const current = bucketOf(timeMs, window.bucketMs);
    const bucket = buckets.get(current) ?? { count: 0, amountsMinor: new Map<string, bigint>() };
    bucket.count += 1;
    bucket.amountsMinor.set(currency, (bucket.amountsMinor.get(currency) ?? 0n) + amountMinor);
    buckets.set(current, bucket);
    const oldest = current - window.bucketCount + 1;
    let count = 0;
    let total = 0n;
    for (const [index, entry] of buckets) {
      if (index < oldest - window.bucketCount) buckets.delete(index);
      else if (index >= oldest && index <= current) {
        count += entry.count;
        total += entry.amountsMinor.get(currency) ?? 0n;
      }
    }
    return { count, amountMinor: total };
  }

  private recordCard(key: string, payment: RiskPayment): DistinctCards {
    let cards = this.cardsSeen.get(key);
    if (!cards) this.cardsSeen.set(key, (cards = new Map()));
    const time = payment.requestedAtMs;
    if (payment.cardFingerprint !== null) cards.set(payment.cardFingerprint, Math.max(cards.get(payment.cardFingerprint) ?? time, time));
    let last1h = 0;
    let last24h = 0;
    for (const [card, seenMs] of cards) {
      if (seenMs <= time - DISTINCT_CARD_WINDOWS_MS['24h']) cards.delete(card);
      else {
        last24h += 1;
        if (seenMs > time - DISTINCT_CARD_WINDOWS_MS['1h']) last1h += 1;
      }
    }
    return { last1h, last24h };
  }

  private recordHistory(payment: RiskPayment) {
    const key = `${payment.payerAccountId}:${payment.currency}`;
    const previous = this.history.get(key) ?? [];
    this.history.set(key, [payment.amountMinor, ...previous].slice(0, PAYER_HISTORY_LENGTH));
    return summariseHistory(previous);
  }

  private recordFirstSeen(payment: RiskPayment): number {
    const first = Math.min(this.firstSeenMs.get(payment.payerAccountId) ?? payment.requestedAtMs, payment.requestedAtMs);
    this.firstSeenMs.set(payment.payerAccountId, first);
    return payment.requestedAtMs - first;
  }

  private recordDevice(payerAccountId: string, deviceId: string, timeMs: number): boolean {
    let devices = this.devicesFirstSeenMs.get(payerAccountId);
    if (!devices) this.devicesFirstSeenMs.set(payerAccountId, (devices = new Map()));
    const first = devices.get(deviceId);
    devices.set(deviceId, Math.min(first ?? timeMs, timeMs));
    return first === undefined || first >= timeMs;
  }
}
