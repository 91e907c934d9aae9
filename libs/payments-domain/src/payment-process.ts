import type {
  CaptureHoldData, CaptureRejectedData, HoldCapturedData, HoldExpiredData, HoldPlacedData, HoldRejectedData, OpenAccountData, PaymentWait,
  PlaceHoldData, PostTransferData, ReleaseHoldData, ReverseTransferData, RiskAssessedData, TransferPostedData, TransferRejectedData,
  TransferReversalRejectedData, TransferReversedData,
} from '@clearline/contracts';
import {
  captureTransferId, clearingAccountId, connectorCallId, connectorSourceOf, externalRailOf,
  type CallConnectorData, type ConnectorAttemptData, type ConnectorAuthorization, type ConnectorCallCompletedData,
} from './connector-calls.js';
import {
  captureCallId, captureModeOf, isCaptured, type PaymentCommand, type PaymentEvent, type PaymentLifecycleCommand, type PaymentState,
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
 * Timeouts (docs/payments.md): risk -> declined risk_timeout; review -> the outcome the merchant's rule set chose
 *               when the payment went into review (declined review_timeout, or approved by `review_timeout`);
 *               authorization -> expired; ledger -> the same command again (its id makes it one effect), and
 *               after `ledgerMaxSends` a hold fails the payment (ledger_timeout) while a capture, void or
 *               refund, whose money may have moved, is handed to an operator; connector -> an authorization
 *               fails (connector_timeout), a capture, void or refund is handed to an operator.
 *
 * External rails (card, e_wallet, mobile_money), happy path:
 *               PaymentAuthorizationStarted -> CallConnector authorize; ConnectorCallCompleted -> RecordConnectorResult
 *               (approved: PaymentAuthorized); PaymentCaptureStarted -> CallConnector capture; its approved attempt ->
 *               OpenAccount clearing + PostTransfer clearing -> merchant; TransferPosted -> RecordHoldCaptured;
 *               PaymentVoidStarted -> CallConnector void; PaymentRefundStarted -> CallConnector refund; its approved
 *               attempt -> PostTransfer merchant -> clearing; TransferPosted -> RecordRefundPosted.
 * Compensations: an authorization approved after the payment gave up (connector_timeout), a sale whose capture
 *               failed, and an expired authorization -> CallConnector void. A ledger refusal after the connector
 *               moved money (capture or refund) is handed to an operator: the scheme and the ledger disagree.
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
  | { type: 'TransferPosted'; data: TransferPostedData }
  | { type: 'TransferRejected'; data: TransferRejectedData }
  | { type: 'ConnectorCallCompleted'; data: ConnectorCallCompletedData }
  | { type: 'PaymentTimeoutElapsed'; data: { wait: PaymentWait; deadlineId: string; attempt: number } };

export type LedgerCommand =
  | { type: 'PlaceHold'; data: PlaceHoldData }
  | { type: 'CaptureHold'; data: CaptureHoldData }
  | { type: 'VoidHold'; data: ReleaseHoldData }
  | { type: 'ExpireHold'; data: ReleaseHoldData }
  | { type: 'ReverseTransfer'; data: ReverseTransferData }
  | { type: 'OpenAccount'; data: OpenAccountData }
  | { type: 'PostTransfer'; data: PostTransferData };

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
  | { target: 'connector'; call: CallConnectorData }
  | { target: 'timer'; command: TimerCommand }
  | { target: 'operator'; alert: { reasonCode: string; detail: string } };

/** How long each wait lasts (docs/payments.md, "Every wait has a timeout"). */
export interface PaymentTimeouts {
  riskAnswerMs: number;
  reviewMs: number;
  ledgerAnswerMs: number;
  /** Sends of one ledger command before the wait gives up (the first send included). */
  ledgerMaxSends: number;
  /** The whole connector call (every attempt, backoff and fallback): above the router's budget. */
  connectorAnswerMs: number;
}

export const DEFAULT_PAYMENT_TIMEOUTS: PaymentTimeouts = {
  riskAnswerMs: 5_000,
  reviewMs: 24 * 3_600_000,
  ledgerAnswerMs: 30_000,
  ledgerMaxSends: 3,
  connectorAnswerMs: 30_000,
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
  connectorAuthorize: 'connector:authorize',
  connectorCapture: 'connector:capture',
  connectorVoid: 'connector:void',
  connectorRefund: (refundId: string) => `connector:refund:${refundId}`,
} as const;

export function decidePaymentProcess(input: ProcessInput, state: PaymentState, context: ProcessContext): ProcessOutput[] {
  switch (input.type) {
    case 'RiskAssessed':
      // A late answer (after the risk timeout declined the payment) or a repeat changes nothing.
      if (state.status !== 'requested') return [];
      return [toPayment({
        type: 'ApplyRiskAssessment',
        data: {
          score: input.data.score, decision: input.data.decision, reasons: input.data.reasons, holdId: context.newHoldId,
          ...(input.data.reviewTimeoutOutcome ? { reviewTimeoutOutcome: input.data.reviewTimeoutOutcome } : {}),
        },
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
    case 'TransferPosted':
    case 'TransferRejected':
      return onTransferAnswer(input, state, context);
    case 'ConnectorCallCompleted':
      return onConnectorAnswer(input.data, state);
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
    case 'PaymentAuthorizationStarted': {
      // Only while the payment still waits for this hold: a late repeat must not hold funds again.
      if (state.status !== 'authorizing' || state.holdId !== event.data.holdId) return [];
      const authorize = pendingConnectorCall(Deadlines.connectorAuthorize, state);
      if (authorize !== undefined) return [cancel(Deadlines.risk), cancel(Deadlines.review), ...call(authorize, Deadlines.connectorAuthorize, context)];
      return [cancel(Deadlines.risk), cancel(Deadlines.review), ...send(pendingLedgerCommand(Deadlines.hold, state)!, Deadlines.hold, 1, context)];
    }
    case 'PaymentAuthorized': {
      if (state.status !== 'authorized' || state.holdId !== event.data.holdId) return [];
      const outputs: ProcessOutput[] = [cancel(isExternal(state) ? Deadlines.connectorAuthorize : Deadlines.hold)];
      // Ours is a second path to the expiry the hold already carries: the ledger releases it on its own.
      if (captureModeOf(state.payment) === 'manual' && state.expiresAt !== undefined) outputs.push(schedule('authorization', Deadlines.authorization, 1, state.expiresAt));
      return outputs;
    }
    case 'PaymentCaptureStarted': {
      if (state.status !== 'capturing' || state.holdId !== event.data.holdId) return [];
      const capture = pendingConnectorCall(Deadlines.connectorCapture, state);
      if (capture !== undefined) return call(capture, Deadlines.connectorCapture, context);
      return send(pendingLedgerCommand(Deadlines.capture, state)!, Deadlines.capture, 1, context);
    }
    case 'PaymentVoidStarted': {
      if (state.status !== 'voiding' || state.holdId !== event.data.holdId) return [];
      const voidCall = pendingConnectorCall(Deadlines.connectorVoid, state);
      if (voidCall !== undefined) return call(voidCall, Deadlines.connectorVoid, context);
      return send(pendingLedgerCommand(Deadlines.void, state)!, Deadlines.void, 1, context);
    }
    case 'PaymentRefundStarted': {
      const refundCall = pendingConnectorCall(Deadlines.connectorRefund(event.data.refundId), state);
      if (refundCall !== undefined) return call(refundCall, Deadlines.connectorRefund(event.data.refundId), context);
      const deadlineId = Deadlines.refund(event.data.refundId);
      const reversal = pendingLedgerCommand(deadlineId, state);
      return reversal === undefined ? [] : send(reversal, deadlineId, 1, context);
    }
    case 'ConnectorAttemptSucceeded':
      return event.data.outcome === 'approved' ? onApprovedAttempt(event.data, state, context) : [];
    case 'ConnectorAttemptFailed':
      return [];
    case 'PaymentDeclined':
      return [cancel(Deadlines.risk), cancel(Deadlines.review), cancel(isExternal(state) ? Deadlines.connectorAuthorize : Deadlines.hold)];
    case 'PaymentCaptured':
      return [cancel(Deadlines.capture), ...(isExternal(state) ? [cancel(Deadlines.connectorCapture)] : []), cancel(Deadlines.authorization)];
    case 'PaymentVoided':
      return [cancel(isExternal(state) ? Deadlines.connectorVoid : Deadlines.void), cancel(Deadlines.authorization)];
    case 'PaymentExpired': {
      if (state.status === 'expired' && isExternal(state)) {
        // Compensation: a connector's authorization is voided (the ledger's hold expires with the ledger, below).
        return [cancel(Deadlines.authorization), cancel(Deadlines.connectorCapture), cancel(Deadlines.connectorVoid), ...compensatingVoid(state.payment.paymentId, state.holdId, state.connector, state)];
      }
      const release: ProcessOutput[] = state.status === 'expired' ? [toLedger({ type: 'ExpireHold', data: { holdId: state.holdId, accountId: state.payment.payerAccountId } })] : [];
      return [cancel(Deadlines.authorization), cancel(Deadlines.capture), cancel(Deadlines.void), ...release];
    }
    case 'PaymentFailed': {
      if (isExternal(state)) {
        // Compensation: an authorization the connector gave (a sale whose capture was refused) is voided.
        const release = state.status === 'failed' && state.holdId !== undefined ? compensatingVoid(state.payment.paymentId, state.holdId, state.connector, state) : [];
        return [cancel(Deadlines.connectorAuthorize), cancel(Deadlines.connectorCapture), cancel(Deadlines.capture), ...release];
      }
      // Compensation: a hold may exist (asked for without an answer, or a sale whose capture was refused).
      const release: ProcessOutput[] = state.status === 'failed' && state.holdId !== undefined
        ? [toLedger({ type: 'VoidHold', data: { holdId: state.holdId, accountId: state.payment.payerAccountId } })]
        : [];
      return [cancel(Deadlines.hold), cancel(Deadlines.capture), ...release];
    }
    case 'PaymentRefunded':
    case 'RefundFailed':
      return [cancel(Deadlines.refund(event.data.refundId)), ...(isExternal(state) ? [cancel(Deadlines.connectorRefund(event.data.refundId))] : [])];
    case 'PaymentCommandRejected':
      if (event.data.commandType === 'CapturePayment' && state.status === 'authorized') return [cancel(isExternal(state) ? Deadlines.connectorCapture : Deadlines.capture)];
      if (event.data.commandType === 'VoidPayment' && state.status === 'authorized') return [cancel(Deadlines.connectorVoid)];
      return [];
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
      return state.status === 'in_review' ? [toPayment({ type: 'TimeOutReview', data: { holdId: context.newHoldId }, now: context.now })] : [];
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
    case 'connector': {
      const pending = pendingConnectorCall(timeout.deadlineId, state);
      if (pending === undefined) return [];
      // No answer to an authorization: the payment fails; an approval that still comes is voided (onConnectorAnswer).
      if (state.status === 'authorizing') return [toPayment({ type: 'TimeOutConnector', data: { holdId: state.holdId } })];
      // A capture, void or refund may have happened at the provider: failing the payment could contradict it. A person looks.
      return [{ target: 'operator', alert: { reasonCode: 'connector_timeout', detail: `no connector answer to ${pending.operation} within ${context.timeouts.connectorAnswerMs} ms (${timeout.deadlineId})` } }];
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
  if (externalRailOf(payment) !== undefined) return pendingClearingCommand(deadlineId, state);
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

/**
 * External rails: the ledger booking the payment waits on under `deadlineId`, once the connector moved
 * the money (capture: clearing -> merchant; refund: merchant -> clearing); undefined before and after.
 */
function pendingClearingCommand(deadlineId: string, state: Exclude<PaymentState, { status: 'initial' }>): LedgerCommand | undefined {
  const { payment } = state;
  if (deadlineId === Deadlines.capture && state.status === 'capturing' && state.capture.connectorCaptured === true && state.connector !== undefined) {
    const amount = { amountMinor: state.capture.amountMinor.toString(), currency: payment.amount.currency };
    const clearing = clearingAccountId(state.connector.connectorId, payment.amount.currency);
    return { type: 'PostTransfer', data: { transferId: captureTransferId(payment.paymentId, state.holdId), debitAccountId: clearing, creditAccountId: payment.merchantAccountId, amount } };
  }
  if (!isCaptured(state) || state.connector === undefined) return undefined;
  const refund = Object.values(state.refunds).find((candidate) => Deadlines.refund(candidate.refundId) === deadlineId && candidate.status === 'pending');
  if (refund === undefined || refund.connectorRefunded !== true) return undefined;
  const amount = { amountMinor: refund.amountMinor.toString(), currency: payment.amount.currency };
  const clearing = clearingAccountId(state.connector.connectorId, payment.amount.currency);
  return { type: 'PostTransfer', data: { transferId: refund.transferId, debitAccountId: payment.merchantAccountId, creditAccountId: clearing, amount } };
}

/**
 * The connector call the payment waits on under `deadlineId` (`connector:*`), rebuilt from the state;
 * undefined for the wallet, and once the call is answered.
 */
export function pendingConnectorCall(deadlineId: string, state: PaymentState): CallConnectorData | undefined {
  if (state.status === 'initial') return undefined;
  const { payment } = state;
  const source = connectorSourceOf(payment);
  if (source === undefined) return undefined;
  const common = { paymentId: payment.paymentId, rail: source.rail };
  if (deadlineId === Deadlines.connectorAuthorize && state.status === 'authorizing' && state.connector === undefined) {
    return { ...common, callId: connectorCallId(payment.paymentId, 'authorize', state.holdId), operation: 'authorize', amount: payment.amount, source };
  }
  if (deadlineId === Deadlines.connectorCapture && state.status === 'capturing' && state.capture.connectorCaptured !== true && state.connector !== undefined) {
    const amount = { amountMinor: state.capture.amountMinor.toString(), currency: payment.amount.currency };
    return { ...common, ...onAuthorization(state.connector), callId: captureCallId(state), operation: 'capture', amount };
  }
  if (deadlineId === Deadlines.connectorVoid && state.status === 'voiding' && state.connector !== undefined) {
    return { ...common, ...onAuthorization(state.connector), callId: connectorCallId(payment.paymentId, 'void', state.voidCommandId), operation: 'void' };
  }
  if (isCaptured(state) && state.connector !== undefined) {
    const refund = Object.values(state.refunds).find((candidate) => Deadlines.connectorRefund(candidate.refundId) === deadlineId && candidate.status === 'pending');
    if (refund === undefined || refund.connectorRefunded === true) return undefined;
    const amount = { amountMinor: refund.amountMinor.toString(), currency: payment.amount.currency };
    return { ...common, ...onAuthorization(state.connector), callId: connectorCallId(payment.paymentId, 'refund', refund.refundId), operation: 'refund', amount, refundId: refund.refundId };
  }
  return undefined;
}

function onAuthorization(connector: ConnectorAuthorization): Pick<CallConnectorData, 'connectorId' | 'authorizationReference'> {
  return { connectorId: connector.connectorId, authorizationReference: connector.reference };
}

/** Releases an authorization at its connector when the payment will not use it; nothing to do before one exists. */
function compensatingVoid(paymentId: string, holdId: string, connector: ConnectorAuthorization | undefined, state: Exclude<PaymentState, { status: 'initial' }>): ProcessOutput[] {
  const source = connectorSourceOf(state.payment);
  if (connector === undefined || source === undefined) return [];
  return [{
    target: 'connector',
    call: { callId: connectorCallId(paymentId, 'void', `compensation:${holdId}`), paymentId, operation: 'void', rail: source.rail, ...onAuthorization(connector) },
  }];
}

/** The connector's final answer: recorded on the payment (every attempt, and the outcome if the payment still waits for it). */
function onConnectorAnswer(answer: ConnectorCallCompletedData, state: PaymentState): ProcessOutput[] {
  if (state.status === 'initial') return [];
  const outputs: ProcessOutput[] = [toPayment({ type: 'RecordConnectorResult', data: answer })];
  // Compensation: an approval for an authorization the payment gave up on (connector_timeout) is voided at once.
  const { result } = answer;
  const lateApproval = answer.operation === 'authorize' && result.outcome === 'approved' && answer.connectorId !== null
    && state.status !== 'authorizing' && !('connector' in state && state.connector !== undefined);
  if (lateApproval && 'holdId' in state && state.holdId !== undefined) {
    outputs.push(...compensatingVoid(state.payment.paymentId, state.holdId, { connectorId: answer.connectorId!, reference: result.reference }, state));
  }
  return outputs;
}

/** The connector captured or refunded: book it in the ledger against the connector's clearing account, opened first if missing. */
function onApprovedAttempt(attempt: ConnectorAttemptData, state: PaymentState, context: ProcessContext): ProcessOutput[] {
  if (state.status === 'initial') return [];
  const deadlines = attempt.operation === 'capture' ? { connector: Deadlines.connectorCapture, ledger: Deadlines.capture }
    : attempt.operation === 'refund' && attempt.refundId !== undefined ? { connector: Deadlines.connectorRefund(attempt.refundId), ledger: Deadlines.refund(attempt.refundId) }
      : undefined;
  if (deadlines === undefined || !('connector' in state) || state.connector === undefined) return [];
  const booking = pendingLedgerCommand(deadlines.ledger, state);
  if (booking === undefined) return [];
  const { currency } = state.payment.amount;
  // The ledger replays an OpenAccount with the same body, so opening the clearing account every time is free;
  // both records travel on the payment stream's partition, so it is open before the transfer arrives.
  const open: LedgerCommand = {
    type: 'OpenAccount',
    data: { accountId: clearingAccountId(state.connector.connectorId, currency), ownerId: 'clearline', kind: 'settlement', currency, allowNegativeBalance: true },
  };
  return [cancel(deadlines.connector), toLedger(open), ...send(booking, deadlines.ledger, 1, context)];
}

/** The ledger booked (or refused) an external capture or refund. */
function onTransferAnswer(input: Extract<ProcessInput, { type: 'TransferPosted' | 'TransferRejected' }>, state: PaymentState, context: ProcessContext): ProcessOutput[] {
  if (state.status === 'initial' || externalRailOf(state.payment) === undefined) return [];
  const { transferId } = input.data;
  if (state.status === 'capturing' && transferId === captureTransferId(state.payment.paymentId, state.holdId)) {
    if (input.type === 'TransferPosted') return [toPayment({ type: 'RecordHoldCaptured', data: { holdId: state.holdId }, now: context.now })];
    // The provider captured and the ledger will not book it: the books and the scheme disagree. A person looks.
    // Sending it again would get the same refusal (same transfer id), so its timer stops; the payment stays capturing.
    return [
      cancel(Deadlines.capture),
      { target: 'operator', alert: { reasonCode: 'capture_booking_rejected', detail: `the ledger refused capture transfer ${transferId} (${input.data.reasonCode}) after the connector captured` } },
    ];
  }
  if (!isCaptured(state) || !hasPendingRefund(state, transferId)) return [];
  if (input.type === 'TransferPosted') return [toPayment({ type: 'RecordRefundPosted', data: { transferId } })];
  return [
    toPayment({ type: 'RecordRefundRejected', data: { transferId, reasonCode: input.data.reasonCode } }),
    { target: 'operator', alert: { reasonCode: 'refund_booking_rejected', detail: `the ledger refused refund transfer ${transferId} (${input.data.reasonCode}) after the connector refunded` } },
  ];
}

function hasPendingRefund(state: Extract<PaymentState, { capturedMinor: bigint }>, transferId: string): boolean {
  return Object.values(state.refunds).some((refund) => refund.transferId === transferId && refund.status === 'pending');
}

/** A ledger command, and the timer that sends it again when no answer comes. */
function send(command: LedgerCommand, deadlineId: string, attempt: number, context: ProcessContext): ProcessOutput[] {
  return [toLedger(command), schedule('ledger', deadlineId, attempt, at(context.now, context.timeouts.ledgerAnswerMs))];
}

function isExternal(state: Exclude<PaymentState, { status: 'initial' }>): boolean {
  return externalRailOf(state.payment) !== undefined;
}

/** A connector call, and the timer that gives up on its answer. */
function call(connectorCall: CallConnectorData, deadlineId: string, context: ProcessContext): ProcessOutput[] {
  return [{ target: 'connector', call: connectorCall }, schedule('connector', deadlineId, 1, at(context.now, context.timeouts.connectorAnswerMs))];
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
