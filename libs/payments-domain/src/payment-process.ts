import type {
  CaptureHoldData, CaptureRejectedData, HoldCapturedData, HoldExpiredData, HoldPlacedData, HoldRejectedData, PaymentWait, PlaceHoldData,
  ReleaseHoldData, ReverseTransferData, RiskAssessedData, TransferReversalRejectedData, TransferReversedData,
} from '@clearline/contracts';
import {
  captureModeOf, isCaptured, type PaymentCommand, type PaymentEvent, type PaymentLifecycleCommand, type PaymentState,
} from './payment.js';

/**
 * The payment process manager (saga) as a decider: an input in, outputs out, [] for what it ignores.
 * It reads the payment's state and never changes it: inputs are the payment's own events (the state
 * given is the one after the event), what risk and the ledger publish, and timeouts. Outputs are
 * commands to the Payment aggregate, commands to the ledger, timers, and alerts for an operator.
 *
 * Happy path:   PaymentRequested -> risk timer; RiskAssessed(approve) -> ApplyRiskAssessment;
 *               PaymentAuthorizationStarted -> PlaceHold; HoldPlaced -> RecordHoldPlaced;
 *               PaymentCaptureStarted (sale: at once; manual: on CapturePayment) -> CaptureHold;
 *               HoldCaptured -> RecordHoldCaptured; PaymentVoidStarted -> VoidHold; HoldVoided -> RecordHoldVoided;
 *               PaymentRefundStarted -> ReverseTransfer; TransferReversed -> RecordRefundPosted.
 * Compensations: HoldRejected -> RecordHoldRejected (nothing held); PaymentFailed with a hold -> VoidHold;
 *               a HoldPlaced that arrives after the payment failed -> VoidHold; PaymentExpired -> ExpireHold.
 * Timeouts (docs/payments.md): risk -> declined risk_timeout; review -> declined review_timeout;
 *               authorization -> expired; ledger -> the same command again (its id makes it one effect), and
 *               after `ledgerMaxSends` a hold fails the payment (ledger_timeout) while a capture, void or
 *               refund, whose money may have moved, is handed to an operator.
 */
export type ProcessInput =
  | PaymentEvent
  | { type: 'RiskAssessed'; data: RiskAssessedData }
  | { type: 'HoldPlaced'; data: HoldPlacedData }
  | { type: 'HoldRejected'; data: HoldRejectedData }
  | { type: 'HoldCaptured'; data: HoldCapturedData }
  | { type: 'CaptureRejected'; data: CaptureRejectedData }
  | { type: 'HoldVoided'; data: ReleaseHoldData }
  | { type: 'HoldExpired'; data: HoldExpiredData }
  | { type: 'TransferReversed'; data: TransferReversedData }
  | { type: 'TransferReversalRejected'; data: TransferReversalRejectedData }
  | { type: 'PaymentTimeoutElapsed'; data: { wait: PaymentWait; deadlineId: string; attempt: number } };

export type LedgerCommand =
  | { type: 'PlaceHold'; data: PlaceHoldData }
  | { type: 'CaptureHold'; data: CaptureHoldData }
  | { type: 'VoidHold'; data: ReleaseHoldData }
  | { type: 'ExpireHold'; data: ReleaseHoldData }
  | { type: 'ReverseTransfer'; data: ReverseTransferData };

export interface ScheduleTimeoutData {
  wait: PaymentWait;
  /** Unique within the payment; scheduling it again replaces the earlier time and attempt. */
  deadlineId: string;
  attempt: number;
  dueAt: string;
}

export type TimerCommand =
  | { type: 'ScheduleTimeout'; data: ScheduleTimeoutData }
  | { type: 'CancelTimeout'; data: { deadlineId: string } };

/** Commands the process sends to the Payment aggregate (channels and analysts send the lifecycle ones). */
export type ProcessPaymentCommand = Exclude<PaymentCommand, { type: 'RequestPayment' } | PaymentLifecycleCommand>;

export type ProcessOutput =
  | { target: 'payment'; command: ProcessPaymentCommand }
  | { target: 'ledger'; command: LedgerCommand }
  | { target: 'timer'; command: TimerCommand }
  | { target: 'operator'; alert: { reasonCode: string; detail: string } };

/** How long each wait lasts (docs/payments.md, "Every wait has a timeout"). */
export interface PaymentTimeouts {
  riskAnswerMs: number;
  reviewMs: number;
  ledgerAnswerMs: number;
  /** Sends of one ledger command before the wait gives up (the first send included). */
  ledgerMaxSends: number;
}

export const DEFAULT_PAYMENT_TIMEOUTS: PaymentTimeouts = {
  riskAnswerMs: 5_000,
  reviewMs: 24 * 3_600_000,
  ledgerAnswerMs: 30_000,
  ledgerMaxSends: 3,
};

export interface ProcessContext {
  /** The id for a hold this input may open; derived from the input message id by the caller. */
  newHoldId: string;
  now: string;
  timeouts: PaymentTimeouts;
}

/** Deadline ids: one per wait of a payment (a refund's ledger wait is per refund). */
export const Deadlines = {
  risk: 'risk',
  review: 'review',
  authorization: 'authorization',
  hold: 'ledger:hold',
  capture: 'ledger:capture',
  void: 'ledger:void',
  refund: (refundId: string) => `ledger:refund:${refundId}`,
} as const;

export function decidePaymentProcess(input: ProcessInput, state: PaymentState, context: ProcessContext): ProcessOutput[] {
  switch (input.type) {
    case 'RiskAssessed':
      // A late answer (after the risk timeout declined the payment) or a repeat changes nothing.
      if (state.status !== 'requested') return [];
      return [toPayment({
        type: 'ApplyRiskAssessment',
        data: { score: input.data.score, decision: input.data.decision, reasons: input.data.reasons, holdId: context.newHoldId },
        now: context.now,
      })];
    case 'HoldPlaced':
      if (state.status === 'authorizing' && state.holdId === input.data.holdId) return [toPayment({ type: 'RecordHoldPlaced', data: { holdId: input.data.holdId } })];
      // Compensation: the hold arrived after the payment gave up waiting for it.
      if (state.status === 'failed' && state.holdId === input.data.holdId) return [toLedger({ type: 'VoidHold', data: { holdId: input.data.holdId, accountId: input.data.accountId } })];
      return [];
    case 'HoldRejected':
      if (state.status !== 'authorizing' || state.holdId !== input.data.holdId) return [];
      return [toPayment({ type: 'RecordHoldRejected', data: { holdId: input.data.holdId, reasonCode: input.data.reasonCode } })];
    case 'HoldCaptured':
      if (state.status === 'capturing' && state.holdId === input.data.holdId) return [toPayment({ type: 'RecordHoldCaptured', data: { holdId: input.data.holdId }, now: context.now })];
      if (state.status !== 'initial' && !isCaptured(state) && 'holdId' in state && state.holdId === input.data.holdId) {
        return [{ target: 'operator', alert: { reasonCode: 'unexpected_capture', detail: `the ledger captured hold ${input.data.holdId} of a payment in status '${state.status}'` } }];
      }
      return [];
    case 'CaptureRejected':
      if (state.status !== 'capturing' || state.holdId !== input.data.holdId) return [];
      return [toPayment({ type: 'RecordCaptureRejected', data: { holdId: input.data.holdId, reasonCode: input.data.reasonCode } })];
    case 'HoldVoided':
      if (state.status !== 'voiding' || state.holdId !== input.data.holdId) return [];
      return [toPayment({ type: 'RecordHoldVoided', data: { holdId: input.data.holdId } })];
    case 'HoldExpired':
      if ((state.status !== 'authorized' && state.status !== 'capturing' && state.status !== 'voiding') || state.holdId !== input.data.holdId) return [];
      return [toPayment({ type: 'RecordHoldExpired', data: { holdId: input.data.holdId } })];
    case 'TransferReversed':
    case 'TransferReversalRejected': {
      if (!isCaptured(state) || !hasPendingRefund(state, input.data.transferId)) return [];
      const { transferId } = input.data;
      return [toPayment(input.type === 'TransferReversed'
        ? { type: 'RecordRefundPosted', data: { transferId } }
        : { type: 'RecordRefundRejected', data: { transferId, reasonCode: input.data.reasonCode } })];
    }
    case 'PaymentTimeoutElapsed':
      return onTimeout(input.data, state, context);
    default:
      return reactToPaymentEvent(input, state, context);
  }
}

/** The payment's own events: start the next step, start or stop the timers that guard it. */
function reactToPaymentEvent(event: PaymentEvent, state: PaymentState, context: ProcessContext): ProcessOutput[] {
  if (state.status === 'initial') return [];
  switch (event.type) {
    case 'PaymentRequested':
      if (state.status !== 'requested') return [];
      return [schedule('risk', Deadlines.risk, 1, at(context.now, context.timeouts.riskAnswerMs))];
    case 'PaymentInReview':
      if (state.status !== 'in_review') return [];
      return [cancel(Deadlines.risk), schedule('review', Deadlines.review, 1, at(context.now, context.timeouts.reviewMs))];
    case 'PaymentAuthorizationStarted':
      // Only while the payment still waits for this hold: a late repeat must not hold funds again.
      if (state.status !== 'authorizing' || state.holdId !== event.data.holdId) return [];
      return [cancel(Deadlines.risk), cancel(Deadlines.review), ...send(pendingLedgerCommand(Deadlines.hold, state)!, Deadlines.hold, 1, context)];
    case 'PaymentAuthorized': {
      if (state.status !== 'authorized' || state.holdId !== event.data.holdId) return [];
      const outputs: ProcessOutput[] = [cancel(Deadlines.hold)];
      // Ours is a second path to the expiry the hold already carries: the ledger releases it on its own.
      if (captureModeOf(state.payment) === 'manual' && state.expiresAt !== undefined) outputs.push(schedule('authorization', Deadlines.authorization, 1, state.expiresAt));
      return outputs;
    }
    case 'PaymentCaptureStarted':
      if (state.status !== 'capturing' || state.holdId !== event.data.holdId) return [];
      return send(pendingLedgerCommand(Deadlines.capture, state)!, Deadlines.capture, 1, context);
    case 'PaymentVoidStarted':
      if (state.status !== 'voiding' || state.holdId !== event.data.holdId) return [];
      return send(pendingLedgerCommand(Deadlines.void, state)!, Deadlines.void, 1, context);
    case 'PaymentRefundStarted': {
      const deadlineId = Deadlines.refund(event.data.refundId);
      const reversal = pendingLedgerCommand(deadlineId, state);
      return reversal === undefined ? [] : send(reversal, deadlineId, 1, context);
    }
    case 'PaymentDeclined':
      return [cancel(Deadlines.risk), cancel(Deadlines.review), cancel(Deadlines.hold)];
    case 'PaymentCaptured':
      return [cancel(Deadlines.capture), cancel(Deadlines.authorization)];
    case 'PaymentVoided':
      return [cancel(Deadlines.void), cancel(Deadlines.authorization)];
    case 'PaymentExpired': {
      const release: ProcessOutput[] = state.status === 'expired' ? [toLedger({ type: 'ExpireHold', data: { holdId: state.holdId, accountId: state.payment.payerAccountId } })] : [];
      return [cancel(Deadlines.authorization), cancel(Deadlines.capture), cancel(Deadlines.void), ...release];
    }
    case 'PaymentFailed': {
      // Compensation: a hold may exist (asked for without an answer, or a sale whose capture was refused).
      const release: ProcessOutput[] = state.status === 'failed' && state.holdId !== undefined
        ? [toLedger({ type: 'VoidHold', data: { holdId: state.holdId, accountId: state.payment.payerAccountId } })]
        : [];
      return [cancel(Deadlines.hold), cancel(Deadlines.capture), ...release];
    }
    case 'PaymentRefunded':
    case 'RefundFailed':
      return [cancel(Deadlines.refund(event.data.refundId))];
    case 'PaymentCommandRejected':
      return event.data.commandType === 'CapturePayment' && state.status === 'authorized' ? [cancel(Deadlines.capture)] : [];
    case 'PaymentReviewed':
    case 'PaymentSettled':
      return [];
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

function onTimeout(timeout: Extract<ProcessInput, { type: 'PaymentTimeoutElapsed' }>['data'], state: PaymentState, context: ProcessContext): ProcessOutput[] {
  switch (timeout.wait) {
    case 'risk':
      return state.status === 'requested' ? [toPayment({ type: 'TimeOutRiskAssessment', data: {} })] : [];
    case 'review':
      return state.status === 'in_review' ? [toPayment({ type: 'TimeOutReview', data: {} })] : [];
    case 'authorization':
      return state.status === 'authorized' ? [toPayment({ type: 'ExpireAuthorization', data: { holdId: state.holdId } })] : [];
    case 'ledger': {
      const command = pendingLedgerCommand(timeout.deadlineId, state);
      if (command === undefined) return [];
      if (timeout.attempt < context.timeouts.ledgerMaxSends) return send(command, timeout.deadlineId, timeout.attempt + 1, context);
      if (state.status === 'authorizing') return [toPayment({ type: 'TimeOutHold', data: { holdId: state.holdId } })];
      // Money may have moved: failing the payment could contradict the ledger. A person looks.
      return [{ target: 'operator', alert: { reasonCode: 'ledger_timeout', detail: `no ledger answer to ${command.type} after ${timeout.attempt} sends (${timeout.deadlineId})` } }];
    }
    default: {
      const unreachable: never = timeout.wait;
      return unreachable;
    }
  }
}

/** The ledger command the payment waits on under `deadlineId`, rebuilt from the state; undefined once it is answered. */
export function pendingLedgerCommand(deadlineId: string, state: PaymentState): LedgerCommand | undefined {
  if (state.status === 'initial') return undefined;
  const { payment } = state;
  if (deadlineId === Deadlines.hold && state.status === 'authorizing') {
    return {
      type: 'PlaceHold',
      data: { holdId: state.holdId, accountId: payment.payerAccountId, amount: payment.amount, paymentId: payment.paymentId, ...(state.expiresAt ? { expiresAt: state.expiresAt } : {}) },
    };
  }
  if (deadlineId === Deadlines.capture && state.status === 'capturing') {
    const amount = { amountMinor: state.capture.amountMinor.toString(), currency: payment.amount.currency };
    return { type: 'CaptureHold', data: { holdId: state.holdId, accountId: payment.payerAccountId, creditAccountId: payment.merchantAccountId, amount, paymentId: payment.paymentId } };
  }
  if (deadlineId === Deadlines.void && state.status === 'voiding') {
    return { type: 'VoidHold', data: { holdId: state.holdId, accountId: payment.payerAccountId } };
  }
  if (isCaptured(state)) {
    const refund = Object.values(state.refunds).find((candidate) => Deadlines.refund(candidate.refundId) === deadlineId && candidate.status === 'pending');
    if (refund === undefined) return undefined;
    const amount = { amountMinor: refund.amountMinor.toString(), currency: payment.amount.currency };
    // A refund reverses the capture: the ledger finds a captured hold by the hold's id.
    return { type: 'ReverseTransfer', data: { transferId: refund.transferId, originalTransferId: state.holdId, amount } };
  }
  return undefined;
}

function hasPendingRefund(state: Extract<PaymentState, { capturedMinor: bigint }>, transferId: string): boolean {
  return Object.values(state.refunds).some((refund) => refund.transferId === transferId && refund.status === 'pending');
}

/** A ledger command, and the timer that sends it again when no answer comes. */
function send(command: LedgerCommand, deadlineId: string, attempt: number, context: ProcessContext): ProcessOutput[] {
  return [toLedger(command), schedule('ledger', deadlineId, attempt, at(context.now, context.timeouts.ledgerAnswerMs))];
}

function toPayment(command: ProcessPaymentCommand): ProcessOutput {
  return { target: 'payment', command };
}

function toLedger(command: LedgerCommand): ProcessOutput {
  return { target: 'ledger', command };
}

function schedule(wait: PaymentWait, deadlineId: string, attempt: number, dueAt: string): ProcessOutput {
  return { target: 'timer', command: { type: 'ScheduleTimeout', data: { wait, deadlineId, attempt, dueAt } } };
}

function cancel(deadlineId: string): ProcessOutput {
  return { target: 'timer', command: { type: 'CancelTimeout', data: { deadlineId } } };
}

function at(now: string, afterMs: number): string {
  return new Date(Date.parse(now) + afterMs).toISOString();
}
