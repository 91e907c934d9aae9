// Proves, over random sequences of captures, refunds (repeated, conflicting, huge) and closes across
// consecutive batches of one merchant, that settlement totals reconcile exactly in bigint:
// gross - refunds - fees - carriedIn = net - carriedForward for every batch; nothing is counted
// twice; every capture and refund is counted once in exactly one batch; the ledger movements leave
// the merchant account at exactly minus the carry-forward; and every report reconciles to the ledger.
import { moneyFromMinor } from '@clearline/money';
import fc from 'fast-check';
import { feeForPayment, type FeeSchedule } from './fee-schedule.js';
import {
  decideSettlementBatch, evolveSettlementBatch, initialSettlementBatchState, SettlementBatchError, settlementLedgerCommand,
  type ClosedSettlementBatchState, type SettlementBatchCommand, type SettlementBatchState, type SettlementRefusalCode,
} from './settlement-batch.js';
import { reconcileSettlementReport, settlementReportCsv } from './settlement-report.js';

const CURRENCY = 'EUR';
const ACCOUNTS = { merchantAccountId: 'merchant', settlementAccountId: 'payout', feeRevenueAccountId: 'fees' };

type Action =
  | { kind: 'capture'; payment: number; amountMinor: bigint | null }
  | { kind: 'refund'; refund: number; payment: number; amountMinor: bigint | null }
  | { kind: 'close' };

/** Small id pools so that repeats are frequent; `null` amounts mean "the id's usual amount", so most repeats are exact. */
const amount = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.bigInt({ min: 1n, max: 1_000_000n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: 10n ** 30n }) },
);
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('capture' as const), payment: fc.nat(15), amountMinor: amount }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('refund' as const), refund: fc.nat(11), payment: fc.nat(15), amountMinor: amount }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
);
const schedule: fc.Arbitrary<FeeSchedule> = fc.record({ percentBasisPoints: fc.bigInt({ min: 0n, max: 10_000n }), fixedMinor: fc.bigInt({ min: 0n, max: 100_000n }) });

const usualAmount = (id: number, salt: bigint) => BigInt(id + 1) * 1_234n + salt;

interface BatchTotals {
  grossMinor: bigint;
  refundsMinor: bigint;
  feesMinor: bigint;
  paymentCount: number;
  refundCount: number;
}

interface Batch {
  batchId: string;
  state: SettlementBatchState;
}

/**
 * Drives batches the way the settlement handler is meant to: a line already counted goes to the
 * batch that counted it (so its repeat meets that batch's idempotency, open or closed), a new line
 * to the open batch, opened on demand with what the last batch carried forward.
 */
class Harness {
  readonly batches: Batch[] = [];
  /** Our own model of what was counted where, kept apart from the decider's answers to check them. */
  private readonly payments = new Map<string, { amountMinor: bigint; batch: Batch }>();
  private readonly refunds = new Map<string, { paymentId: string; amountMinor: bigint; batch: Batch }>();
  readonly expected = new Map<Batch, BatchTotals>();
  readonly balances = new Map<string, bigint>();

  constructor(private readonly feeSchedule: FeeSchedule) {}

  capture(paymentId: string, amountMinor: bigint): void {
    const known = this.payments.get(paymentId);
    const target = known?.batch ?? this.openBatch();
    const outcome = this.apply(target, { type: 'AddCapturedPayment', data: { paymentId, amount: moneyFromMinor(amountMinor, CURRENCY), capturedAt: 't' } });
    if (known) {
      expect(outcome).toBe(known.amountMinor === amountMinor ? 'no-op' : 'duplicate_payment_different_amount');
      return;
    }
    expect(outcome).toBe('accepted');
    this.payments.set(paymentId, { amountMinor, batch: target });
    const totals = this.expected.get(target)!;
    totals.grossMinor += amountMinor;
    totals.feesMinor += feeForPayment(moneyFromMinor(amountMinor, CURRENCY), this.feeSchedule).amountMinor;
    totals.paymentCount += 1;
    // The capture itself (payer -> merchant) happened in the ledger before settlement saw it.
    this.move('payer', 'merchant', amountMinor);
  }

  refund(refundId: string, paymentId: string, amountMinor: bigint): void {
    const known = this.refunds.get(refundId);
    const target = known?.batch ?? this.openBatch();
    const outcome = this.apply(target, { type: 'AddRefund', data: { paymentId, refundId, amount: moneyFromMinor(amountMinor, CURRENCY), refundedAt: 't' } });
    if (known) {
      expect(outcome).toBe(known.amountMinor === amountMinor && known.paymentId === paymentId ? 'no-op' : 'duplicate_refund_different_body');
      return;
    }
    expect(outcome).toBe('accepted');
    this.refunds.set(refundId, { paymentId, amountMinor, batch: target });
    const totals = this.expected.get(target)!;
    totals.refundsMinor += amountMinor;
    totals.refundCount += 1;
    this.move('merchant', 'payer', amountMinor);
  }

  /** Closes the newest batch; a second close of it must be a no-op. */
  close(): { closed: ClosedSettlementBatchState; first: boolean } | null {
    const current = this.batches.at(-1);
    if (!current) return null;
    const outcome = this.apply(current, { type: 'CloseSettlementBatch', data: { batchId: current.batchId, closedAt: 'closed', reason: 'schedule' } });
    if (current.state.status !== 'closed') throw new Error('a close of the current batch must leave it closed');
    expect(outcome === 'accepted' || outcome === 'no-op').toBe(true);
    return { closed: current.state, first: outcome === 'accepted' };
  }

  /** Applies a command: 'accepted' when it produced events, 'no-op', or the refusal's code (which must change nothing). */
  private apply(batch: Batch, command: SettlementBatchCommand): 'accepted' | 'no-op' | SettlementRefusalCode {
    let events;
    try {
      events = decideSettlementBatch(command, batch.state);
    } catch (error) {
      if (!(error instanceof SettlementBatchError)) throw error;
      return error.code;
    }
    batch.state = events.reduce(evolveSettlementBatch, batch.state);
    if (command.type === 'CloseSettlementBatch' && events.length > 0 && batch.state.status === 'closed') this.settle(batch.state);
    return events.length > 0 ? 'accepted' : 'no-op';
  }

  private settle(closed: ClosedSettlementBatchState): void {
    for (const transfer of settlementLedgerCommand(closed)?.transfers ?? []) {
      const amountMinor = BigInt(transfer.amount.amountMinor);
      expect(amountMinor > 0n).toBe(true); // never a zero or negative transfer
      this.move(transfer.debitAccountId === ACCOUNTS.merchantAccountId ? 'merchant' : transfer.debitAccountId, accountName(transfer.creditAccountId), amountMinor);
    }
  }

  private openBatch(): Batch {
    const current = this.batches.at(-1);
    if (current?.state.status === 'open') return current;
    const carriedInMinor = current?.state.status === 'closed' ? BigInt(current.state.closed.carriedForwardMinor) : 0n;
    const batchNo = this.batches.length + 1;
    const batch: Batch = { batchId: `00000000-0000-5000-8000-${String(batchNo).padStart(12, '0')}`, state: initialSettlementBatchState() };
    this.batches.push(batch);
    this.expected.set(batch, { grossMinor: 0n, refundsMinor: 0n, feesMinor: 0n, paymentCount: 0, refundCount: 0 });
    const outcome = this.apply(batch, {
      type: 'OpenSettlementBatch',
      data: { batchId: batch.batchId, merchantId: 'merchant-1', currency: CURRENCY, batchNo, accounts: ACCOUNTS, feeSchedule: this.feeSchedule, carriedInMinor, openedAt: 'opened' },
    });
    if (outcome !== 'accepted') throw new Error(`opening a new batch must succeed, got ${outcome}`);
    return batch;
  }

  private move(from: string, to: string, amountMinor: bigint): void {
    this.balances.set(from, (this.balances.get(from) ?? 0n) - amountMinor);
    this.balances.set(to, (this.balances.get(to) ?? 0n) + amountMinor);
  }

  balance(account: string): bigint {
    return this.balances.get(account) ?? 0n;
  }
}

function accountName(accountId: string): string {
  return accountId === ACCOUNTS.settlementAccountId ? 'payout' : accountId === ACCOUNTS.feeRevenueAccountId ? 'fees' : accountId;
}

describe('settlement batches (property)', () => {
  it('reconcile exactly, count each line once, carry negative nets forward and match the ledger and the report', () => {
    fc.assert(fc.property(fc.array(action, { maxLength: 120 }), schedule, fc.bigInt({ min: 0n, max: 999n }), (actions, feeSchedule, salt) => {
      const harness = new Harness(feeSchedule);
      let previousCarriedForward = 0n;
      let paidOut = 0n;
      let feesTaken = 0n;
      const checkClosed = (closed: ClosedSettlementBatchState) => {
        const totals = closed.closed;
        const [gross, refunds, fees, carriedIn, net, carriedForward] =
          [totals.grossMinor, totals.refundsMinor, totals.feesMinor, totals.carriedInMinor, totals.netMinor, totals.carriedForwardMinor].map(BigInt) as [bigint, bigint, bigint, bigint, bigint, bigint];
        // The identity, with carry-over signed as in gross - refunds - fees = net + carry-over.
        expect(gross - refunds - fees - carriedIn).toBe(net - carriedForward);
        expect(net >= 0n && carriedForward >= 0n && (net === 0n || carriedForward === 0n)).toBe(true);
        expect(carriedIn).toBe(previousCarriedForward);
        previousCarriedForward = carriedForward;
        paidOut += net;
        feesTaken += fees;
        // Nothing counted twice or lost: the decider's totals are our own bookkeeping of first acceptances.
        const batch = harness.batches.find((candidate) => candidate.state === closed)!;
        expect({ grossMinor: gross, refundsMinor: refunds, feesMinor: fees, paymentCount: totals.paymentCount, refundCount: totals.refundCount })
          .toEqual(harness.expected.get(batch));
        // The merchant account ends the batch at exactly minus what it still owes.
        expect(harness.balance('merchant')).toBe(-carriedForward);
        expect(reconcileSettlementReport(settlementReportCsv(closed), moneyFromMinor(net, CURRENCY))).toEqual({ reconciled: true, netMinor: net });
      };
      for (const step of actions) {
        if (step.kind === 'capture') harness.capture(`p-${step.payment}`, step.amountMinor ?? usualAmount(step.payment, salt));
        else if (step.kind === 'refund') harness.refund(`r-${step.refund}`, `p-${step.payment}`, step.amountMinor ?? usualAmount(step.refund, salt));
        else {
          const result = harness.close();
          if (result?.first) checkClosed(result.closed);
        }
      }
      const last = harness.close();
      if (last?.first) checkClosed(last.closed);
      // Double entry across everything: the balances sum to zero, and payout and fee revenue hold what the closes said.
      expect([...harness.balances.values()].reduce((sum, value) => sum + value, 0n)).toBe(0n);
      expect(harness.balance('payout')).toBe(paidOut);
      expect(harness.balance('fees')).toBe(feesTaken);
      // Every line is in exactly one batch.
      const lines = harness.batches.flatMap((batch) => (batch.state.status === 'initial' ? [] : batch.state.lines.toArray()));
      const ids = lines.map((line) => (line.kind === 'payment' ? `payment:${line.paymentId}` : `refund:${line.refundId}`));
      expect(new Set(ids).size).toBe(ids.length);
    }), { numRuns: 300 });
  });
});
