import type {
  PaymentAuthorizationStartedData, PaymentAuthorizedData, PaymentCapturedData, PaymentChannel, PaymentDeclinedData,
  PaymentInReviewData, PaymentRequestedData, RiskAssessedData, SettlementBatchClosedData,
} from '@clearline/contracts';
import type { NewEvent, StreamAppend } from '@clearline/event-store';

/**
 * Realistic payment traffic as the services would append it (same streams, types, data shapes and
 * metadata), from a seeded generator: the rebuild equality test and `npm run bench:replay` feed it to
 * an event store of their own. Contract events match their JSON Schemas (the test checks each with
 * validateEnvelope); the settlement batch's internal events follow libs/payments-domain's shapes.
 */

export interface SimulatedTrafficOptions {
  seed: number;
  merchants: number;
  /** Payments per round; one round is one appendToStreams call (bounded by the store's 10,000 events). */
  paymentsPerRound: number;
}

const CHANNELS: readonly PaymentChannel[] = ['card_acquiring', 'e_wallet', 'mobile', 'partner_bank'];
const CURRENCIES = ['EUR', 'USD', 'CNY'] as const;
const DECLINE_REASONS = ['risk_score_high', 'velocity_payer_1h', 'blocklisted_device', 'amount_above_history'] as const;

/** mulberry32: small, fast and reproducible; the same seed gives the same traffic on every machine. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(random() * 4)] as string;
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}

interface OpenBatch {
  batchId: string;
  batchNo: number;
  streamId: string;
  merchantId: string;
  currency: string;
  openedAt: string;
  paymentCount: number;
  grossMinor: bigint;
  feesMinor: bigint;
}

/** An endless sequence of rounds; each round is a list of appends, one per stream. */
export function* simulatedTraffic(options: SimulatedTrafficOptions): Generator<StreamAppend[]> {
  const random = seededRandom(options.seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const batches = new Map<string, OpenBatch>();
  const now = new Date('2026-11-01T00:00:00Z').getTime();
  let round = 0;
  for (;;) {
    round += 1;
    const appends = new Map<string, NewEvent[]>();
    const add = (streamId: string, type: string, data: unknown, correlationId: string, schemaVersion = 1): void => {
      const event: NewEvent = { id: uuidFrom(random), type, data, schemaVersion, metadata: { correlationId, causationId: correlationId, producer: 'simulated-traffic' } };
      const events = appends.get(streamId);
      if (events === undefined) appends.set(streamId, [event]);
      else events.push(event);
    };
    const at = new Date(now + round * 60_000).toISOString();
    for (let index = 0; index < options.paymentsPerRound; index += 1) {
      const paymentId = uuidFrom(random);
      const correlationId = `sim-${paymentId}`;
      const merchantNumber = Math.floor(random() ** 2 * options.merchants);
      const merchantId = `merchant-${merchantNumber}`;
      const currency = CURRENCIES[merchantNumber % CURRENCIES.length] as string;
      const amountMinor = String(100 + Math.floor(random() * 50_000));
      const captureMode = random() < 0.85 ? 'automatic' : 'manual';
      const requested: PaymentRequestedData = {
        paymentId, channel: pick(CHANNELS), merchantId, merchantAccountId: `${merchantId}-${currency.toLowerCase()}`,
        payerAccountId: `payer-${Math.floor(random() * 10_000)}`, amount: { amountMinor, currency }, method: 'wallet', captureMode, requestedAt: at,
      };
      const paymentStream = `payment-${paymentId}`;
      add(paymentStream, 'PaymentRequested', requested, correlationId);
      const score = Math.min(100, Math.floor(random() ** 1.8 * 101));
      const decision = score >= 85 ? 'decline' : score >= 70 ? 'review' : 'approve';
      const reasons = decision === 'approve' ? [] : [pick(DECLINE_REASONS)];
      const assessed: RiskAssessedData = { paymentId, payerAccountId: requested.payerAccountId, score, decision, reasons, ruleSetVersion: 'sim-1' };
      add(`risk-${paymentId}`, 'RiskAssessed', assessed, correlationId);
      if (decision === 'decline') {
        const declined: PaymentDeclinedData = { paymentId, stage: 'risk', reasonCode: reasons[0] as string };
        add(paymentStream, 'PaymentDeclined', declined, correlationId);
        continue;
      }
      if (decision === 'review') {
        const inReview: PaymentInReviewData = { paymentId, riskScore: score, reasons };
        add(paymentStream, 'PaymentInReview', inReview, correlationId);
        if (random() < 0.5) {
          const declined: PaymentDeclinedData = { paymentId, stage: 'review', reasonCode: 'analyst_declined' };
          add(paymentStream, 'PaymentDeclined', declined, correlationId);
          continue;
        }
      }
      const holdId = uuidFrom(random);
      const started: PaymentAuthorizationStartedData = { paymentId, holdId, riskScore: score };
      add(paymentStream, 'PaymentAuthorizationStarted', started, correlationId);
      if (random() < 0.04) {
        const declined: PaymentDeclinedData = { paymentId, stage: 'funds', reasonCode: 'insufficient_funds' };
        add(paymentStream, 'PaymentDeclined', declined, correlationId);
        continue;
      }
      const authorized: PaymentAuthorizedData = { paymentId, holdId, amount: requested.amount };
      add(paymentStream, 'PaymentAuthorized', authorized, correlationId);
      if (captureMode === 'manual' && random() < 0.5) continue;
      const captured: PaymentCapturedData = { paymentId, holdId, amount: requested.amount, authorizedAmount: requested.amount };
      add(paymentStream, 'PaymentCaptured', captured, correlationId);
      addToSettlement(batches, add, uuidFrom, random, { paymentId, merchantId, merchantAccountId: requested.merchantAccountId, currency, amountMinor, at, correlationId });
    }
    // Every tenth round closes the open batches, as the daily schedule would.
    if (round % 10 === 0) for (const batch of batches.values()) closeBatch(batch, add, at);
    if (round % 10 === 0) batches.clear();
    yield [...appends].map(([streamId, events]) => ({ streamId, events }));
  }
}

type Add = (streamId: string, type: string, data: unknown, correlationId: string, schemaVersion?: number) => void;

const batchNumbers = new WeakMap<Map<string, OpenBatch>, Map<string, number>>();

function addToSettlement(
  batches: Map<string, OpenBatch>, add: Add, uuid: (random: () => number) => string, random: () => number,
  payment: { paymentId: string; merchantId: string; merchantAccountId: string; currency: string; amountMinor: string; at: string; correlationId: string },
): void {
  const key = `${payment.merchantId}-${payment.currency}`;
  let batch = batches.get(key);
  if (batch === undefined) {
    const numbers = batchNumbers.get(batches) ?? new Map<string, number>();
    batchNumbers.set(batches, numbers);
    const batchNo = (numbers.get(key) ?? 0) + 1;
    numbers.set(key, batchNo);
    batch = { batchId: uuid(random), batchNo, streamId: `settlement-${key}-${batchNo}`, merchantId: payment.merchantId, currency: payment.currency, openedAt: payment.at, paymentCount: 0, grossMinor: 0n, feesMinor: 0n };
    batches.set(key, batch);
    add(batch.streamId, 'SettlementBatchOpened', {
      batchId: batch.batchId, merchantId: payment.merchantId, currency: payment.currency, batchNo, merchantAccountId: payment.merchantAccountId,
      settlementAccountId: `${payment.merchantId}-settlement`, feeRevenueAccountId: 'fee-revenue', percentBasisPoints: '150', fixedMinor: '10',
      carriedInMinor: '0', openedAt: payment.at,
    }, `settlement-${batch.batchId}`);
  }
  // 1.5 % + 10 minor units, rounded down: the fee's exact rule is payments-domain's, not the read model's.
  const feeMinor = (BigInt(payment.amountMinor) * 150n) / 10_000n + 10n;
  batch.paymentCount += 1;
  batch.grossMinor += BigInt(payment.amountMinor);
  batch.feesMinor += feeMinor;
  add(batch.streamId, 'PaymentAddedToSettlementBatch', {
    batchId: batch.batchId, paymentId: payment.paymentId, amountMinor: payment.amountMinor, feeMinor: feeMinor.toString(), capturedAt: payment.at,
  }, payment.correlationId);
}

function closeBatch(batch: OpenBatch, add: Add, at: string): void {
  const netMinor = batch.grossMinor - batch.feesMinor;
  const closed: SettlementBatchClosedData = {
    settlementBatchId: batch.batchId, merchantId: batch.merchantId, merchantAccountId: `${batch.merchantId}-${batch.currency.toLowerCase()}`,
    currency: batch.currency, batchNo: batch.batchNo, reason: 'schedule', openedAt: batch.openedAt, closedAt: at,
    paymentCount: batch.paymentCount, refundCount: 0, grossMinor: batch.grossMinor.toString(), refundsMinor: '0',
    feesMinor: batch.feesMinor.toString(), carriedInMinor: '0', netMinor: netMinor.toString(), carriedForwardMinor: '0',
  };
  const correlationId = `settlement-${batch.batchId}`;
  add(batch.streamId, 'SettlementBatchClosed', closed, correlationId);
  add(batch.streamId, 'SettlementPayoutPosted', { batchId: batch.batchId, ledgerBatchId: batch.batchId }, correlationId);
}
