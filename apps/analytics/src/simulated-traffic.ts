import type {
  OpenAccountData, PaymentAuthorizationStartedData, PaymentAuthorizedData, PaymentCapturedData, PaymentChannel, PaymentCommandRejectedData,
  PaymentDeclinedData, PaymentExpiredData, PaymentFailedData, PaymentInReviewData, PaymentRefundedData, PaymentRequestedData,
  PaymentSettledV2Data, PaymentVoidedData, RefundFailedData, RiskAssessedData, SettlementBatchClosedData, TransferPostedData,
} from '@clearline/contracts';
import type { NewEvent, StreamAppend } from '@clearline/event-store';

/**
 * Realistic payment traffic as the services would append it (same streams, types, data shapes and
 * metadata), from a seeded generator: the rebuild equality test and `npm run bench:replay` feed it to
 * an event store of their own. Payments take every path (reviews, declines, failures, voids, expiries,
 * partial captures, refunds, settlement); captures move money between ledger accounts. Contract events
 * match their JSON Schemas (the test checks each with validateEnvelope); internal events (the
 * settlement batch's, PaymentCaptureStarted, PaymentReviewed ...) follow libs/payments-domain's shapes.
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
  payments: { paymentId: string; merchantAccountId: string; grossMinor: bigint; feeMinor: bigint; capturedAt: string; correlationId: string }[];
}

/** An endless sequence of rounds; each round is a list of appends, one per stream. */
export function* simulatedTraffic(options: SimulatedTrafficOptions): Generator<StreamAppend[]> {
  const random = seededRandom(options.seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const batches = new Map<string, OpenBatch>();
  const ledger: LedgerState = { opened: new Set(), postedMinor: new Map() };
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
        const timeoutOutcome = random() < 0.5 ? 'approve' : 'decline';
        const inReview: PaymentInReviewData = { paymentId, riskScore: score, reasons, timeoutOutcome };
        add(paymentStream, 'PaymentInReview', inReview, correlationId);
        const review = random();
        if (review < 0.5) {
          // An analyst declines (PaymentReviewed stays inside payments), or the timeout declines.
          if (review < 0.4) add(paymentStream, 'PaymentReviewed', reviewed(paymentId, 'decline', `analyst-${Math.floor(random() * 5)}`, uuidFrom(random)), correlationId);
          const declined: PaymentDeclinedData = { paymentId, stage: 'review', reasonCode: review < 0.4 ? 'review_declined' : 'review_timeout' };
          add(paymentStream, 'PaymentDeclined', declined, correlationId);
          continue;
        }
        const reviewer = review < 0.6 ? 'review_timeout' : `analyst-${Math.floor(random() * 5)}`;
        add(paymentStream, 'PaymentReviewed', reviewed(paymentId, 'approve', reviewer, uuidFrom(random)), correlationId);
      }
      const holdId = uuidFrom(random);
      const started: PaymentAuthorizationStartedData = { paymentId, holdId, riskScore: score };
      add(paymentStream, 'PaymentAuthorizationStarted', started, correlationId);
      const answer = random();
      if (answer < 0.04) {
        const declined: PaymentDeclinedData = { paymentId, stage: 'funds', reasonCode: 'insufficient_funds' };
        add(paymentStream, 'PaymentDeclined', declined, correlationId);
        continue;
      }
      if (answer < 0.06) {
        const failed: PaymentFailedData = { paymentId, reasonCode: 'ledger_timeout' };
        add(paymentStream, 'PaymentFailed', failed, correlationId);
        continue;
      }
      const authorized: PaymentAuthorizedData = { paymentId, holdId, amount: requested.amount };
      add(paymentStream, 'PaymentAuthorized', authorized, correlationId);
      let capturedMinor = BigInt(amountMinor);
      if (captureMode === 'manual') {
        const next = random();
        if (next < 0.3) continue;
        if (next < 0.45) {
          add(paymentStream, 'PaymentVoidStarted', { paymentId, holdId, commandId: uuidFrom(random), fingerprint: '{"type":"VoidPayment"}' }, correlationId);
          const voided: PaymentVoidedData = { paymentId, holdId, releasedAmount: requested.amount };
          add(paymentStream, 'PaymentVoided', voided, correlationId);
          continue;
        }
        if (next < 0.55) {
          const expired: PaymentExpiredData = { paymentId, holdId, reasonCode: 'authorization_expired' };
          add(paymentStream, 'PaymentExpired', expired, correlationId);
          continue;
        }
        const commandId = uuidFrom(random);
        if (next < 0.6) {
          // The ledger refused the capture: the payment is authorized again.
          add(paymentStream, 'PaymentCaptureStarted', { paymentId, holdId, amount: requested.amount, commandId, fingerprint: 'capture' }, correlationId);
          const rejected: PaymentCommandRejectedData = { paymentId, commandId, commandType: 'CapturePayment', reasonCode: 'insufficient_funds', status: 'capturing', detail: 'the ledger refused the capture: insufficient_funds' };
          add(paymentStream, 'PaymentCommandRejected', rejected, correlationId);
          continue;
        }
        // Half of the manual captures take part of the authorization.
        if (random() < 0.5) capturedMinor = (capturedMinor + 1n) / 2n;
        add(paymentStream, 'PaymentCaptureStarted', { paymentId, holdId, amount: { amountMinor: capturedMinor.toString(), currency }, commandId, fingerprint: 'capture' }, correlationId);
      } else {
        add(paymentStream, 'PaymentCaptureStarted', { paymentId, holdId, amount: requested.amount }, correlationId);
      }
      const captured: PaymentCapturedData = { paymentId, holdId, amount: { amountMinor: capturedMinor.toString(), currency }, authorizedAmount: requested.amount };
      add(paymentStream, 'PaymentCaptured', captured, correlationId);
      addToLedger(ledger, add, uuidFrom(random), { payerAccountId: `${requested.payerAccountId}-${currency.toLowerCase()}`, merchantAccountId: requested.merchantAccountId, merchantId, currency, amountMinor: capturedMinor, correlationId });
      addToSettlement(batches, add, uuidFrom, random, { paymentId, merchantId, merchantAccountId: requested.merchantAccountId, currency, amountMinor: capturedMinor.toString(), at, correlationId });
      const refund = random();
      if (refund < 0.15) {
        // Some refunds: partial, full, or refused by the ledger.
        const refundId = uuidFrom(random);
        const refundMinor = refund < 0.05 ? capturedMinor : (capturedMinor + 2n) / 3n;
        const amount = { amountMinor: refundMinor.toString(), currency };
        const transferId = uuidFrom(random);
        add(paymentStream, 'PaymentRefundStarted', { paymentId, refundId, amount, transferId, commandId: uuidFrom(random), fingerprint: 'refund' }, correlationId);
        if (refund < 0.12) {
          const refunded: PaymentRefundedData = { paymentId, refundId, amount, refundedTotal: amount, transferId };
          add(paymentStream, 'PaymentRefunded', refunded, correlationId);
        } else {
          const failed: RefundFailedData = { paymentId, refundId, amount, reasonCode: 'insufficient_funds' };
          add(paymentStream, 'RefundFailed', failed, correlationId);
        }
      }
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
    batch = { batchId: uuid(random), batchNo, streamId: `settlement-${key}-${batchNo}`, merchantId: payment.merchantId, currency: payment.currency, openedAt: payment.at, paymentCount: 0, grossMinor: 0n, feesMinor: 0n, payments: [] };
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
  batch.payments.push({ paymentId: payment.paymentId, merchantAccountId: payment.merchantAccountId, grossMinor: BigInt(payment.amountMinor), feeMinor, capturedAt: payment.at, correlationId: payment.correlationId });
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
  // As the settlement handler appends a close: PaymentSettled v2 per payment, then the close.
  for (const payment of batch.payments) {
    const settled: PaymentSettledV2Data = {
      paymentId: payment.paymentId, merchantId: batch.merchantId, merchantAccountId: payment.merchantAccountId, settlementBatchId: batch.batchId,
      currency: batch.currency, grossMinor: payment.grossMinor.toString(), feeMinor: payment.feeMinor.toString(),
      netMinor: (payment.grossMinor - payment.feeMinor).toString(), capturedAt: payment.capturedAt, settledAt: at,
    };
    add(batch.streamId, 'PaymentSettled', settled, payment.correlationId, 2);
  }
  add(batch.streamId, 'SettlementBatchClosed', closed, correlationId);
  add(batch.streamId, 'SettlementPayoutPosted', { batchId: batch.batchId, ledgerBatchId: batch.batchId }, correlationId);
}

function reviewed(paymentId: string, decision: 'approve' | 'decline', reviewerId: string, commandId: string): Record<string, string> {
  return { paymentId, decision, reviewerId, commandId, fingerprint: JSON.stringify({ type: 'ReviewPayment', decision, reviewerId }) };
}

interface LedgerState {
  opened: Set<string>;
  postedMinor: Map<string, bigint>;
}

/** A capture's booking as the ledger appends it: the accounts (opened on first use), their entries and the transfer. */
function addToLedger(
  ledger: LedgerState, add: Add, transferId: string,
  capture: { payerAccountId: string; merchantAccountId: string; merchantId: string; currency: string; amountMinor: bigint; correlationId: string },
): void {
  const open = (accountId: string, ownerId: string, kind: OpenAccountData['kind']): void => {
    if (ledger.opened.has(accountId)) return;
    ledger.opened.add(accountId);
    const data: OpenAccountData = { accountId, ownerId, kind, currency: capture.currency };
    add(`account-${accountId}`, 'AccountOpened', data, capture.correlationId);
  };
  open(capture.payerAccountId, capture.payerAccountId, 'customer_wallet');
  open(capture.merchantAccountId, capture.merchantId, 'merchant');
  const amountMinor = capture.amountMinor.toString();
  const balances = (accountId: string, change: bigint) => {
    const posted = (ledger.postedMinor.get(accountId) ?? 0n) + change;
    ledger.postedMinor.set(accountId, posted);
    return { currency: capture.currency, postedMinor: posted.toString(), pendingMinor: '0', availableMinor: posted.toString() };
  };
  add(`account-${capture.payerAccountId}`, 'AccountDebited', { transferId, amountMinor }, capture.correlationId);
  add(`account-${capture.merchantAccountId}`, 'AccountCredited', { transferId, amountMinor }, capture.correlationId);
  const posted: TransferPostedData = {
    transferId, debitAccountId: capture.payerAccountId, creditAccountId: capture.merchantAccountId, amount: { amountMinor, currency: capture.currency },
    debitBalances: balances(capture.payerAccountId, -capture.amountMinor), creditBalances: balances(capture.merchantAccountId, capture.amountMinor),
  };
  add(`transfer-${transferId}`, 'TransferPosted', posted, capture.correlationId);
}
