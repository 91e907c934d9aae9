/**
 * What risk knows about one payment: the facts the payment carries (`RiskPayment`) and the features
 * computed from earlier payments (`RiskFeatures`: velocity, distinct cards, the payer's amount
 * history, account age, first use of a device). Amounts stay bigint minor units; only ratios and
 * scores are numbers. The feature store (Redis in apps/risk, `InMemoryFeatureStore` here for the
 * simulator and backtests) computes the features with the same windows, defined below.
 */
export const VELOCITY_ENTITIES = ['payer', 'card', 'device', 'ip', 'merchant'] as const;
export type VelocityEntity = (typeof VELOCITY_ENTITIES)[number];

/**
 * Sliding windows made of fixed buckets: a payment at time t counts in the window of a later payment
 * at time u when t's bucket is one of the `bucketCount` buckets ending with u's bucket. The window is
 * thus exact to one bucket (a second for 1m, a minute for 1h, an hour for 24h), and bounded in memory.
 */
export const VELOCITY_WINDOWS = [
  { name: '1m', bucketMs: 1_000, bucketCount: 60 },
  { name: '1h', bucketMs: 60_000, bucketCount: 60 },
  { name: '24h', bucketMs: 3_600_000, bucketCount: 24 },
] as const;
export type VelocityWindowName = (typeof VELOCITY_WINDOWS)[number]['name'];

/** Windows for distinct cards per device and per IP (card testing). */
export const DISTINCT_CARD_WINDOWS_MS = { '1h': 3_600_000, '24h': 86_400_000 } as const;

/** How many of the payer's previous amounts (per currency) the history keeps. */
export const PAYER_HISTORY_LENGTH = 50;

/** A payment's own amount is capped at this when added to velocity sums, so sums stay within int64. */
export const VELOCITY_AMOUNT_CAP_MINOR = 10n ** 15n;

export interface WindowTotals {
  /** Payments in the window, this one included. */
  count: number;
  /** Their amounts in this payment's currency, this one included. */
  amountMinor: bigint;
}

export type EntityVelocity = Readonly<Record<VelocityWindowName, WindowTotals>>;

export interface DistinctCards {
  last1h: number;
  last24h: number;
}

/** The payer's earlier payments in the same currency (the last PAYER_HISTORY_LENGTH), this one excluded. */
export interface PayerAmountHistory {
  previousCount: number;
  /** Floor of the mean; null without history. */
  meanMinor: bigint | null;
  /** Floor of the population standard deviation; null with fewer than two payments. */
  standardDeviationMinor: bigint | null;
}

/** The payment as risk sees it. Null fields are unknown to the channel or to risk. */
export interface RiskPayment {
  paymentId: string;
  merchantId: string;
  payerAccountId: string;
  amountMinor: bigint;
  currency: string;
  method: string;
  channel: string;
  requestedAtMs: number;
  deviceId: string | null;
  ipAddress: string | null;
  /** A token of the card (never the number); null for wallet payments or when the channel sends none. */
  cardFingerprint: string | null;
  /** ISO 3166 alpha-2 of the card's issuer and of the IP address, when known. */
  cardCountry: string | null;
  ipCountry: string | null;
  /** From risk's merchant profiles (e.g. `digital_goods`, `gift_cards`, `grocery`). */
  merchantCategory: string | null;
}

export interface RiskFeatures {
  /** Null for an entity the payment does not name (no card, no device, no IP). */
  velocity: Readonly<Record<VelocityEntity, EntityVelocity | null>>;
  distinctCardsPerDevice: DistinctCards | null;
  distinctCardsPerIp: DistinctCards | null;
  payerHistory: PayerAmountHistory;
  /** Since risk first saw the payer (0 on its first payment); null if unknown. */
  accountAgeMs: number | null;
  /** True when the payer had not used this device before; null without a device id. */
  firstUseOfDevice: boolean | null;
}

/** Mean and standard deviation of earlier amounts, in integer minor units (floors). */
export function summariseHistory(previousAmountsMinor: readonly bigint[]): PayerAmountHistory {
  const count = previousAmountsMinor.length;
  if (count === 0) return { previousCount: 0, meanMinor: null, standardDeviationMinor: null };
  const total = previousAmountsMinor.reduce((sum, amount) => sum + amount, 0n);
  const meanMinor = total / BigInt(count);
  if (count < 2) return { previousCount: count, meanMinor, standardDeviationMinor: null };
  // Population variance from the exact mean: sum((n*x - total)^2) / n^3, all in integers.
  const n = BigInt(count);
  const squares = previousAmountsMinor.reduce((sum, amount) => sum + (n * amount - total) ** 2n, 0n);
  return { previousCount: count, meanMinor, standardDeviationMinor: integerSquareRoot(squares / n ** 3n) };
}

export interface AmountVersusHistory {
  /** This amount divided by the payer's mean; null without history. */
  ratioToMean: number | null;
  /** (amount - mean) / standard deviation; null with fewer than two payments or no spread. */
  zScore: number | null;
}

export function amountVersusHistory(amountMinor: bigint, history: PayerAmountHistory): AmountVersusHistory {
  const { meanMinor, standardDeviationMinor } = history;
  const ratioToMean = meanMinor !== null && meanMinor > 0n ? thousandths(amountMinor * 1000n / meanMinor) : null;
  const zScore = meanMinor !== null && standardDeviationMinor !== null && standardDeviationMinor > 0n
    ? thousandths((amountMinor - meanMinor) * 1000n / standardDeviationMinor)
    : null;
  return { ratioToMean, zScore };
}

function thousandths(value: bigint): number {
  return Number(value) / 1000;
}

/** Floor of the square root of a non-negative bigint (Newton's method). */
export function integerSquareRoot(value: bigint): bigint {
  if (value < 0n) throw new RangeError('square root of a negative number');
  if (value < 2n) return value;
  let current = value;
  let next = (current + 1n) / 2n;
  while (next < current) {
    current = next;
    next = (current + value / current) / 2n;
  }
  return current;
}

/** The bucket a time falls in, for a window's bucket size. */
export function bucketOf(timeMs: number, bucketMs: number): number {
  return Math.floor(timeMs / bucketMs);
}

/** The entity ids a payment names, keyed by entity; absent entities are left out. */
export function velocityEntitiesOf(payment: RiskPayment): Partial<Record<VelocityEntity, string>> {
  const ids: Partial<Record<VelocityEntity, string>> = { payer: payment.payerAccountId, merchant: payment.merchantId };
  if (payment.cardFingerprint !== null) ids.card = payment.cardFingerprint;
  if (payment.deviceId !== null) ids.device = payment.deviceId;
  if (payment.ipAddress !== null) ids.ip = payment.ipAddress;
  return ids;
}

/** Features of a payer's very first payment with no device, card or IP: what a cold store returns. */
export function coldFeatures(payment: RiskPayment): RiskFeatures {
  const amountMinor = payment.amountMinor < VELOCITY_AMOUNT_CAP_MINOR ? payment.amountMinor : VELOCITY_AMOUNT_CAP_MINOR;
  const one: EntityVelocity = { '1m': { count: 1, amountMinor }, '1h': { count: 1, amountMinor }, '24h': { count: 1, amountMinor } };
  const ids = velocityEntitiesOf(payment);
  const velocity = Object.fromEntries(VELOCITY_ENTITIES.map((entity) => [entity, ids[entity] === undefined ? null : one])) as Record<VelocityEntity, EntityVelocity | null>;
  const cards = payment.cardFingerprint === null ? { last1h: 0, last24h: 0 } : { last1h: 1, last24h: 1 };
  return {
    velocity,
    distinctCardsPerDevice: payment.deviceId === null ? null : cards,
    distinctCardsPerIp: payment.ipAddress === null ? null : cards,
    payerHistory: summariseHistory([]),
    accountAgeMs: 0,
    firstUseOfDevice: payment.deviceId === null ? null : true,
  };
}
