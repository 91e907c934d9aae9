import {
  deriveMessageId, type PostLinkedTransfersData, type PostTransferData, type SettlementBatchClosedData, type SettlementCloseReason,
} from '@clearline/contracts';
import { currencyOf, type Money } from '@clearline/money';
import { feeForPayment, validateFeeSchedule, type FeeSchedule } from './fee-schedule.js';
import { SettlementLineLog } from './settlement-lines.js';

/**
 * A settlement batch as a decider: decide(command, state) -> events, evolve(state, event) -> state.
 * One batch per merchant, currency and batch number (stream `settlement-<merchantId>-<currency>-<batchNo>`):
 * it opens with what it needs to decide alone (accounts, the fee schedule in force, what the previous
 * batch carried forward), gathers captured payments and refunds, and closes once, computing
 * net = gross - refunds - fees - carriedIn and the ledger movements that pay it out.
 *
 *   initial --OpenSettlementBatch--> open --AddCapturedPayment / AddRefund--> open --CloseSettlementBatch--> closed
 *
 * Pure: no clock, no I/O; times come in the commands and every id is either given or derived from
 * the batch id, so deciding twice on the same input gives the same events.
 */

/** Bounds a batch, its replay and its report; the handler closes a full batch on demand and opens the next. */
export const MAX_SETTLEMENT_BATCH_LINES = 100_000;

export interface SettlementAccounts {
  /** Receives the captures and pays the refunds during the batch; pays net and fees at the close. */
  merchantAccountId: string;
  /** Where the merchant's payout (the net) goes. */
  settlementAccountId: string;
  /** The platform's fee revenue account in the batch's currency. */
  feeRevenueAccountId: string;
}

// ---------------------------------------------------------------- commands (in memory: bigint and Money)

export interface OpenSettlementBatchData {
  batchId: string;
  merchantId: string;
  currency: string;
  batchNo: number;
  accounts: SettlementAccounts;
  /** In force for the whole batch: a schedule change applies from the next batch on. */
  feeSchedule: FeeSchedule;
  /** What the previous batch carried forward (its carriedForwardMinor), 0n for the first batch. */
  carriedInMinor: bigint;
  openedAt: string;
}

export type SettlementBatchCommand =
  | { type: 'OpenSettlementBatch'; data: OpenSettlementBatchData }
  | { type: 'AddCapturedPayment'; data: { paymentId: string; amount: Money; capturedAt: string } }
  | { type: 'AddRefund'; data: { paymentId: string; refundId: string; amount: Money; refundedAt: string } }
  | { type: 'CloseSettlementBatch'; data: { batchId: string; closedAt: string; reason: SettlementCloseReason } };

// ---------------------------------------------------------------- events (stored: JSON-safe, amounts as minor-unit strings)

export interface SettlementBatchOpenedData {
  batchId: string;
  merchantId: string;
  currency: string;
  batchNo: number;
  merchantAccountId: string;
  settlementAccountId: string;
  feeRevenueAccountId: string;
  percentBasisPoints: string;
  fixedMinor: string;
  carriedInMinor: string;
  openedAt: string;
}

export interface PaymentAddedToSettlementBatchData {
  batchId: string;
  paymentId: string;
  amountMinor: string;
  /** Computed when the payment is added, under the batch's schedule, and never recomputed. */
  feeMinor: string;
  capturedAt: string;
}

export interface RefundAddedToSettlementBatchData {
  batchId: string;
  paymentId: string;
  refundId: string;
  amountMinor: string;
  refundedAt: string;
}

export type SettlementBatchEvent =
  | { type: 'SettlementBatchOpened'; data: SettlementBatchOpenedData }
  | { type: 'PaymentAddedToSettlementBatch'; data: PaymentAddedToSettlementBatchData }
  | { type: 'RefundAddedToSettlementBatch'; data: RefundAddedToSettlementBatchData }
  /** The public contract's data, so the outbox publishes it as it is. */
  | { type: 'SettlementBatchClosed'; data: SettlementBatchClosedData };

export const SETTLEMENT_BATCH_EVENT_TYPES: ReadonlySet<string> = new Set<SettlementBatchEvent['type']>([
  'SettlementBatchOpened', 'PaymentAddedToSettlementBatch', 'RefundAddedToSettlementBatch', 'SettlementBatchClosed',
]);

// ---------------------------------------------------------------- state

export interface SettlementBatchHeader {
  batchId: string;
  merchantId: string;
  currency: string;
  batchNo: number;
  accounts: SettlementAccounts;
  feeSchedule: FeeSchedule;
  carriedInMinor: bigint;
  openedAt: string;
}

export interface SettlementTotals {
  paymentCount: number;
  refundCount: number;
  grossMinor: bigint;
  refundsMinor: bigint;
  feesMinor: bigint;
}

export type SettlementBatchState =
  | { status: 'initial' }
  | { status: 'open'; batch: SettlementBatchHeader; lines: SettlementLineLog; totals: SettlementTotals }
  | { status: 'closed'; batch: SettlementBatchHeader; lines: SettlementLineLog; totals: SettlementTotals; closed: SettlementBatchClosedData };

export type SettlementBatchStatus = SettlementBatchState['status'];
export type OpenSettlementBatchState = Extract<SettlementBatchState, { status: 'open' }>;
export type ClosedSettlementBatchState = Extract<SettlementBatchState, { status: 'closed' }>;

// ---------------------------------------------------------------- errors

/** Stable codes, for a rejection record or a problem+json body. */
export const SETTLEMENT_REFUSAL_CODES = [
  'batch_not_open',
  'batch_already_open',
  'batch_closed',
  'batch_full',
  'batch_id_mismatch',
  'currency_mismatch',
  'invalid_amount',
  'invalid_batch',
  'duplicate_payment_different_amount',
  'duplicate_refund_different_body',
  'duplicate_open_different_body',
] as const;
export type SettlementRefusalCode = (typeof SETTLEMENT_REFUSAL_CODES)[number];

const COMMAND_PHRASES: Record<SettlementBatchCommand['type'], string> = {
  OpenSettlementBatch: 'open',
  AddCapturedPayment: 'add a captured payment to',
  AddRefund: 'add a refund to',
  CloseSettlementBatch: 'close',
};

export class SettlementBatchError extends Error {
  constructor(
    readonly command: SettlementBatchCommand['type'],
    readonly status: SettlementBatchStatus,
    readonly code: SettlementRefusalCode,
    detail: string,
  ) {
    super(`cannot ${COMMAND_PHRASES[command]} a settlement batch in status '${status}' (${code}: ${detail})`);
    this.name = 'SettlementBatchError';
  }
}

// ---------------------------------------------------------------- decider

export function initialSettlementBatchState(): SettlementBatchState {
  return { status: 'initial' };
}

export function decideSettlementBatch(command: SettlementBatchCommand, state: SettlementBatchState): SettlementBatchEvent[] {
  switch (command.type) {
    case 'OpenSettlementBatch':
      return decideOpen(command.data, state);
    case 'AddCapturedPayment':
      return decideAddPayment(command.data, state);
    case 'AddRefund':
      return decideAddRefund(command.data, state);
    case 'CloseSettlementBatch':
      return decideClose(command.data, state);
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

function decideOpen(data: OpenSettlementBatchData, state: SettlementBatchState): SettlementBatchEvent[] {
  const refuse = (code: SettlementRefusalCode, detail: string) => new SettlementBatchError('OpenSettlementBatch', state.status, code, detail);
  const opened = openedEventData(data, refuse);
  if (state.status !== 'initial') {
    // A retried open is answered as done; another batch on this stream is a routing mistake.
    if (sameOpen(openedEventData(headerToOpen(state.batch), refuse), opened)) return [];
    throw refuse(state.batch.batchId === data.batchId ? 'duplicate_open_different_body' : 'batch_already_open', `batch ${state.batch.batchId} is already opened here`);
  }
  return [{ type: 'SettlementBatchOpened', data: opened }];
}

function openedEventData(data: OpenSettlementBatchData, refuse: (code: SettlementRefusalCode, detail: string) => Error): SettlementBatchOpenedData {
  if (!Number.isSafeInteger(data.batchNo) || data.batchNo < 1) throw refuse('invalid_batch', `batchNo must be a positive integer, got ${data.batchNo}`);
  if (typeof data.carriedInMinor !== 'bigint' || data.carriedInMinor < 0n) {
    throw refuse('invalid_batch', `carriedInMinor must be a non-negative bigint (what the merchant owes), got ${String(data.carriedInMinor)}`);
  }
  validateFeeSchedule(data.feeSchedule, data.currency);
  return {
    batchId: data.batchId,
    merchantId: data.merchantId,
    currency: currencyOf(data.currency).code,
    batchNo: data.batchNo,
    merchantAccountId: data.accounts.merchantAccountId,
    settlementAccountId: data.accounts.settlementAccountId,
    feeRevenueAccountId: data.accounts.feeRevenueAccountId,
    percentBasisPoints: data.feeSchedule.percentBasisPoints.toString(),
    fixedMinor: data.feeSchedule.fixedMinor.toString(),
    carriedInMinor: data.carriedInMinor.toString(),
    openedAt: data.openedAt,
  };
}

function sameOpen(a: SettlementBatchOpenedData, b: SettlementBatchOpenedData): boolean {
  return (Object.keys(a) as (keyof SettlementBatchOpenedData)[]).every((key) => a[key] === b[key]);
}

function headerToOpen(batch: SettlementBatchHeader): OpenSettlementBatchData {
  return { ...batch };
}

type BatchState = Exclude<SettlementBatchState, { status: 'initial' }>;

/** The checks every line shares: an opened batch, the batch's currency, a positive amount. */
function checkLine(command: 'AddCapturedPayment' | 'AddRefund', state: SettlementBatchState, amount: Money): BatchState {
  if (state.status === 'initial') throw new SettlementBatchError(command, state.status, 'batch_not_open', 'open the batch first');
  if (amount.currency !== state.batch.currency) {
    throw new SettlementBatchError(command, state.status, 'currency_mismatch', `the batch settles ${state.batch.currency}, the amount is in ${amount.currency}`);
  }
  if (typeof amount.amountMinor !== 'bigint' || amount.amountMinor <= 0n) {
    throw new SettlementBatchError(command, state.status, 'invalid_amount', `the amount must be a positive bigint of minor units, got ${String(amount.amountMinor)}`);
  }
  return state;
}

/** After the idempotency check: a closed batch takes nothing new, an open one takes at most MAX lines. */
function checkRoom(command: 'AddCapturedPayment' | 'AddRefund', state: BatchState): OpenSettlementBatchState {
  if (state.status === 'closed') throw new SettlementBatchError(command, state.status, 'batch_closed', `batch ${state.batch.batchId} closed at ${state.closed.closedAt}; add to the open batch`);
  if (state.lines.size >= MAX_SETTLEMENT_BATCH_LINES) {
    throw new SettlementBatchError(command, state.status, 'batch_full', `batch ${state.batch.batchId} holds ${MAX_SETTLEMENT_BATCH_LINES} lines; close it and open the next`);
  }
  return state;
}

function decideAddPayment(data: Extract<SettlementBatchCommand, { type: 'AddCapturedPayment' }>['data'], state: SettlementBatchState): SettlementBatchEvent[] {
  const batchState = checkLine('AddCapturedPayment', state, data.amount);
  const existing = batchState.lines.payment(data.paymentId);
  if (existing) {
    // A redelivered capture is counted once; the same id with another amount is a different fact.
    if (existing.amountMinor === data.amount.amountMinor) return [];
    throw new SettlementBatchError('AddCapturedPayment', state.status, 'duplicate_payment_different_amount',
      `payment ${data.paymentId} is already in the batch with ${existing.amountMinor}, not ${data.amount.amountMinor} minor units`);
  }
  const open = checkRoom('AddCapturedPayment', batchState);
  const fee = feeForPayment(data.amount, open.batch.feeSchedule);
  return [{
    type: 'PaymentAddedToSettlementBatch',
    data: {
      batchId: open.batch.batchId,
      paymentId: data.paymentId,
      amountMinor: data.amount.amountMinor.toString(),
      feeMinor: fee.amountMinor.toString(),
      capturedAt: data.capturedAt,
    },
  }];
}

function decideAddRefund(data: Extract<SettlementBatchCommand, { type: 'AddRefund' }>['data'], state: SettlementBatchState): SettlementBatchEvent[] {
  const batchState = checkLine('AddRefund', state, data.amount);
  const existing = batchState.lines.refund(data.refundId);
  if (existing) {
    if (existing.amountMinor === data.amount.amountMinor && existing.paymentId === data.paymentId) return [];
    throw new SettlementBatchError('AddRefund', state.status, 'duplicate_refund_different_body',
      `refund ${data.refundId} is already in the batch for payment ${existing.paymentId} with ${existing.amountMinor} minor units`);
  }
  const open = checkRoom('AddRefund', batchState);
  // The refunded payment may have settled in an earlier batch: refunds count where they happen.
  return [{
    type: 'RefundAddedToSettlementBatch',
    data: { batchId: open.batch.batchId, paymentId: data.paymentId, refundId: data.refundId, amountMinor: data.amount.amountMinor.toString(), refundedAt: data.refundedAt },
  }];
}

function decideClose(data: Extract<SettlementBatchCommand, { type: 'CloseSettlementBatch' }>['data'], state: SettlementBatchState): SettlementBatchEvent[] {
  if (state.status === 'initial') throw new SettlementBatchError('CloseSettlementBatch', state.status, 'batch_not_open', 'nothing to close');
  if (data.batchId !== state.batch.batchId) {
    throw new SettlementBatchError('CloseSettlementBatch', state.status, 'batch_id_mismatch', `this stream holds batch ${state.batch.batchId}, not ${data.batchId}`);
  }
  // The schedule and an on-demand close may race, and either may be retried: the first close wins.
  if (state.status === 'closed') return [];
  return [{ type: 'SettlementBatchClosed', data: closingTotals(state, data) }];
}

/**
 * The close: gross - refunds - fees - carriedIn is paid out when positive, and carried forward as
 * what the merchant owes when negative; never a negative transfer. Fees are always moved, so the
 * merchant account ends every batch at exactly -carriedForward (zero when the batch pays out).
 */
function closingTotals(state: OpenSettlementBatchState, data: { closedAt: string; reason: SettlementCloseReason }): SettlementBatchClosedData {
  const { batch, totals } = state;
  const balance = totals.grossMinor - totals.refundsMinor - totals.feesMinor - batch.carriedInMinor;
  const netMinor = balance > 0n ? balance : 0n;
  const carriedForwardMinor = balance < 0n ? -balance : 0n;
  const transferIds = settlementTransferIds(batch.batchId);
  return {
    settlementBatchId: batch.batchId,
    merchantId: batch.merchantId,
    merchantAccountId: batch.accounts.merchantAccountId,
    currency: batch.currency,
    batchNo: batch.batchNo,
    reason: data.reason,
    openedAt: batch.openedAt,
    closedAt: data.closedAt,
    paymentCount: totals.paymentCount,
    refundCount: totals.refundCount,
    grossMinor: totals.grossMinor.toString(),
    refundsMinor: totals.refundsMinor.toString(),
    feesMinor: totals.feesMinor.toString(),
    carriedInMinor: batch.carriedInMinor.toString(),
    netMinor: netMinor.toString(),
    carriedForwardMinor: carriedForwardMinor.toString(),
    ...(netMinor > 0n || totals.feesMinor > 0n ? { ledgerBatchId: transferIds.ledgerBatchId } : {}),
    ...(netMinor > 0n ? { netTransferId: transferIds.netTransferId } : {}),
    ...(totals.feesMinor > 0n ? { feeTransferId: transferIds.feeTransferId } : {}),
  };
}

/** Derived from the batch id, so a retried close (or a replay) asks the ledger for the very same transfers. */
export function settlementTransferIds(batchId: string): { ledgerBatchId: string; netTransferId: string; feeTransferId: string } {
  return {
    ledgerBatchId: deriveMessageId(batchId, 'settlement:ledger-batch'),
    netTransferId: deriveMessageId(batchId, 'settlement:net'),
    feeTransferId: deriveMessageId(batchId, 'settlement:fees'),
  };
}

// ---------------------------------------------------------------- evolve

export function evolveSettlementBatch(state: SettlementBatchState, event: SettlementBatchEvent): SettlementBatchState {
  switch (event.type) {
    case 'SettlementBatchOpened':
      return {
        status: 'open',
        batch: headerOf(event.data),
        lines: SettlementLineLog.empty(),
        totals: { paymentCount: 0, refundCount: 0, grossMinor: 0n, refundsMinor: 0n, feesMinor: 0n },
      };
    case 'PaymentAddedToSettlementBatch': {
      if (state.status !== 'open') return state;
      const amountMinor = BigInt(event.data.amountMinor);
      const feeMinor = BigInt(event.data.feeMinor);
      return {
        ...state,
        lines: state.lines.append({ kind: 'payment', paymentId: event.data.paymentId, amountMinor, feeMinor, capturedAt: event.data.capturedAt }),
        totals: {
          ...state.totals,
          paymentCount: state.totals.paymentCount + 1,
          grossMinor: state.totals.grossMinor + amountMinor,
          feesMinor: state.totals.feesMinor + feeMinor,
        },
      };
    }
    case 'RefundAddedToSettlementBatch': {
      if (state.status !== 'open') return state;
      const amountMinor = BigInt(event.data.amountMinor);
      const { paymentId, refundId, refundedAt } = event.data;
      return {
        ...state,
        lines: state.lines.append({ kind: 'refund', paymentId, refundId, amountMinor, refundedAt }),
        totals: { ...state.totals, refundCount: state.totals.refundCount + 1, refundsMinor: state.totals.refundsMinor + amountMinor },
      };
    }
    case 'SettlementBatchClosed':
      if (state.status !== 'open') return state;
      return { status: 'closed', batch: state.batch, lines: state.lines, totals: state.totals, closed: event.data };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

function headerOf(data: SettlementBatchOpenedData): SettlementBatchHeader {
  return {
    batchId: data.batchId,
    merchantId: data.merchantId,
    currency: data.currency,
    batchNo: data.batchNo,
    accounts: { merchantAccountId: data.merchantAccountId, settlementAccountId: data.settlementAccountId, feeRevenueAccountId: data.feeRevenueAccountId },
    feeSchedule: { percentBasisPoints: BigInt(data.percentBasisPoints), fixedMinor: BigInt(data.fixedMinor) },
    carriedInMinor: BigInt(data.carriedInMinor),
    openedAt: data.openedAt,
  };
}

// ---------------------------------------------------------------- what a close asks of the ledger

/**
 * The ledger movements of a closed batch, as one atomic PostLinkedTransfers: merchant -> settlement
 * account for the net, merchant -> fee revenue for the fees. A zero leg is left out (the ledger takes
 * only positive transfers); null when nothing moves. Its ids are the closed event's.
 */
export function settlementLedgerCommand(state: ClosedSettlementBatchState): PostLinkedTransfersData | null {
  const { closed, batch } = state;
  if (closed.ledgerBatchId === undefined) return null;
  const transfers: PostTransferData[] = [];
  if (closed.netTransferId !== undefined) {
    transfers.push(leg(closed.netTransferId, batch.accounts.merchantAccountId, batch.accounts.settlementAccountId, closed.netMinor, batch.currency));
  }
  if (closed.feeTransferId !== undefined) {
    transfers.push(leg(closed.feeTransferId, batch.accounts.merchantAccountId, batch.accounts.feeRevenueAccountId, closed.feesMinor, batch.currency));
  }
  return { batchId: closed.ledgerBatchId, transfers };
}

function leg(transferId: string, debitAccountId: string, creditAccountId: string, amountMinor: string, currency: string): PostTransferData {
  return { transferId, debitAccountId, creditAccountId, amount: { amountMinor, currency } };
}
