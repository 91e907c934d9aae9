import {
  canonicalJson, DEFAULT_REVIEW_TIMEOUT_OUTCOME, deriveMessageId, refusalEndsCommandInFlight,
  type DeclineStage, type PaymentAuthorizationStartedData, type PaymentAuthorizedData, type PaymentCapturedData,
  type PaymentCommandRejectedData, type PaymentDeclinedData, type PaymentExpiredData, type PaymentFailedData, type PaymentInReviewData,
  type PaymentRefundedData, type PaymentRefusalCode, type PaymentRequestedData, type PaymentVoidedData,
  type RefundFailedData, type RequestPaymentData, type ReviewDecision, type ReviewTimeoutOutcome, type RiskDecision, type WireMoney,
} from '@clearline/contracts';
import {
  connectorCallId, connectorRefusalReason, connectorSourceOf, externalRailOf,
  type ConnectorAttemptData, type ConnectorAuthorization, type ConnectorCallCompletedData,
} from './connector-calls.js';

/**
 * The Payment aggregate as a decider: decide(command, state) -> events, evolve(state, event) -> state.
 * Lifecycle (docs/payments.md): requested -> (risk | analyst review) authorizing -> authorized
 * -> capturing -> captured -> refunds; or voided, expired, declined, failed. Pure: time and ids come
 * in commands. Amounts are bigint minor units in the state, decimal strings on events.
 *
 * Two kinds of rail share the states. The wallet authorizes with a ledger hold on the payer account.
 * The external rails (card, e_wallet, mobile_money) authorize, capture, void and refund through a
 * connector (RecordConnectorResult records every attempt), and book captures and refunds in the
 * ledger afterwards against the connector's clearing account; `holdId` then names the authorization.
 */

/** How long an uncaptured authorization lives when the request names no `authorizationTtlMs`. */
export const DEFAULT_AUTHORIZATION_TTL_MS = 7 * 24 * 3_600_000;

// Events that stay inside payments (not contracts: the relay never publishes them). They record that
// a lifecycle command was accepted, with the command id and its fingerprint for idempotency.
export interface PaymentCaptureStartedData {
  paymentId: string;
  holdId: string;
  amount: WireMoney;
  /** Absent for the automatic capture of a sale. */
  commandId?: string;
  fingerprint?: string;
}

export interface PaymentVoidStartedData {
  paymentId: string;
  holdId: string;
  commandId: string;
  fingerprint: string;
}

export interface PaymentRefundStartedData {
  paymentId: string;
  refundId: string;
  amount: WireMoney;
  /** The ledger reversal's id, derived from the payment and refund ids. */
  transferId: string;
  commandId: string;
  fingerprint: string;
}

export interface PaymentReviewedData {
  paymentId: string;
  decision: ReviewDecision;
  reviewerId?: string;
  commandId: string;
  fingerprint: string;
}

/**
 * PaymentSettled version 1, which the walking skeleton recorded on the payment stream at each capture
 * (a settlement batch of one). No longer decided: settlement batches (apps/payments) publish
 * PaymentSettled version 2 from their own streams. Kept so that old payment streams still replay.
 */
export interface LegacyPaymentSettledData {
  paymentId: string;
  merchantId: string;
  merchantAccountId: string;
  amount: WireMoney;
  settledAt: string;
}

export type PaymentEvent =
  | { type: 'PaymentRequested'; data: PaymentRequestedData }
  | { type: 'PaymentAuthorizationStarted'; data: PaymentAuthorizationStartedData }
  | { type: 'PaymentInReview'; data: PaymentInReviewData }
  | { type: 'PaymentReviewed'; data: PaymentReviewedData }
  | { type: 'PaymentDeclined'; data: PaymentDeclinedData }
  | { type: 'PaymentAuthorized'; data: PaymentAuthorizedData }
  | { type: 'PaymentCaptureStarted'; data: PaymentCaptureStartedData }
  | { type: 'PaymentCaptured'; data: PaymentCapturedData }
  | { type: 'PaymentSettled'; data: LegacyPaymentSettledData }
  | { type: 'PaymentVoidStarted'; data: PaymentVoidStartedData }
  | { type: 'PaymentVoided'; data: PaymentVoidedData }
  | { type: 'PaymentExpired'; data: PaymentExpiredData }
  | { type: 'PaymentFailed'; data: PaymentFailedData }
  | { type: 'PaymentRefundStarted'; data: PaymentRefundStartedData }
  | { type: 'PaymentRefunded'; data: PaymentRefundedData }
  | { type: 'RefundFailed'; data: RefundFailedData }
  | { type: 'PaymentCommandRejected'; data: PaymentCommandRejectedData }
  | { type: 'ConnectorAttemptSucceeded'; data: ConnectorAttemptData }
  | { type: 'ConnectorAttemptFailed'; data: ConnectorAttemptData };

export const PAYMENT_EVENT_TYPES: ReadonlySet<string> = new Set<PaymentEvent['type']>([
  'PaymentRequested', 'PaymentAuthorizationStarted', 'PaymentInReview', 'PaymentReviewed', 'PaymentDeclined', 'PaymentAuthorized',
  'PaymentCaptureStarted', 'PaymentCaptured', 'PaymentSettled', 'PaymentVoidStarted', 'PaymentVoided', 'PaymentExpired',
  'PaymentFailed', 'PaymentRefundStarted', 'PaymentRefunded', 'RefundFailed', 'PaymentCommandRejected',
  'ConnectorAttemptSucceeded', 'ConnectorAttemptFailed',
]);

/** Commands a channel or an analyst sends; each carries a commandId and is idempotent on it. */
export type PaymentLifecycleCommand =
  | { type: 'CapturePayment'; data: { commandId: string; amount?: WireMoney } }
  | { type: 'VoidPayment'; data: { commandId: string } }
  | { type: 'RefundPayment'; data: { commandId: string; refundId: string; amount: WireMoney } }
  | { type: 'ReviewPayment'; data: { commandId: string; decision: ReviewDecision; reviewerId?: string; holdId: string }; now: string };

export type PaymentCommand =
  | { type: 'RequestPayment'; data: RequestPaymentData; now: string }
  | { type: 'ApplyRiskAssessment'; data: { score: number; decision: RiskDecision; reasons: string[]; holdId: string; reviewTimeoutOutcome?: ReviewTimeoutOutcome }; now: string }
  | PaymentLifecycleCommand
  | { type: 'RecordHoldPlaced'; data: { holdId: string } }
  | { type: 'RecordHoldRejected'; data: { holdId: string; reasonCode: string } }
  | { type: 'RecordHoldCaptured'; data: { holdId: string }; now: string }
  | { type: 'RecordCaptureRejected'; data: { holdId: string; reasonCode: string } }
  | { type: 'RecordHoldVoided'; data: { holdId: string } }
  | { type: 'RecordHoldExpired'; data: { holdId: string } }
  | { type: 'RecordRefundPosted'; data: { transferId: string } }
  | { type: 'RecordRefundRejected'; data: { transferId: string; reasonCode: string } }
  | { type: 'TimeOutRiskAssessment'; data: Record<string, never> }
  /** `holdId` opens the authorization when the review's timeout outcome is approve. */
  | { type: 'TimeOutReview'; data: { holdId: string }; now: string }
  | { type: 'TimeOutHold'; data: { holdId: string } }
  | { type: 'ExpireAuthorization'; data: { holdId: string } }
  | { type: 'RecordConnectorResult'; data: ConnectorCallCompletedData }
  | { type: 'TimeOutConnector'; data: { holdId: string } };

export type RefundStatus = 'pending' | 'refunded' | 'failed';

export interface RefundRecord {
  refundId: string;
  transferId: string;
  amountMinor: bigint;
  status: RefundStatus;
  fingerprint: string;
  /** External rails: the connector refunded; the ledger booking (merchant -> clearing) is what is left. */
  connectorRefunded?: boolean;
}

interface Known {
  payment: PaymentRequestedData;
  /** Accepted lifecycle commands: commandId -> fingerprint of what it asked. */
  commands: Readonly<Record<string, string>>;
}

interface Held {
  /** The ledger hold (wallet), or the id of the authorization at the connector (external rails). */
  holdId: string;
  authorizedMinor: bigint;
  expiresAt?: string;
  /** External rails: where the authorization lives. */
  connector?: ConnectorAuthorization;
}

/** A captured payment and its refunds; its status follows from the amounts (see capturedStatus). */
export interface CapturedPayment extends Known, Held {
  capturedMinor: bigint;
  /** Refunds the ledger posted. */
  refundedMinor: bigint;
  /** Refunds accepted and not yet answered: they count against what is still refundable. */
  pendingRefundMinor: bigint;
  refunds: Readonly<Record<string, RefundRecord>>;
  /**
   * Settled by the walking skeleton's PaymentSettled v1 (old streams only). Settlement batches keep
   * their own record of what they counted (payments.settlement_lines), not this flag. Orthogonal to status.
   */
  settled: boolean;
}

export const CAPTURED_STATUSES = ['captured', 'refunding', 'partially_refunded', 'refunded'] as const;
export type CapturedStatus = (typeof CAPTURED_STATUSES)[number];

export type PaymentState =
  | { status: 'initial' }
  | (Known & { status: 'requested' })
  | (Known & { status: 'in_review'; riskScore: number; timeoutOutcome: ReviewTimeoutOutcome })
  | (Known & { status: 'authorizing'; holdId: string; riskScore: number; expiresAt?: string; connector?: ConnectorAuthorization })
  | (Known & Held & { status: 'authorized' })
  | (Known & Held & { status: 'capturing'; capture: CaptureInFlight })
  | (Known & Held & { status: 'voiding'; voidCommandId: string })
  | (CapturedPayment & { status: CapturedStatus })
  | (Known & { status: 'voided'; holdId: string })
  | (Known & { status: 'expired'; holdId: string; connector?: ConnectorAuthorization })
  | (Known & { status: 'declined'; stage: DeclineStage; reasonCode: string })
  | (Known & { status: 'failed'; reasonCode: string; holdId?: string; connector?: ConnectorAuthorization });

export interface CaptureInFlight {
  amountMinor: bigint;
  /** Absent for the automatic capture of a sale. */
  commandId?: string;
  /** External rails: the connector captured; the ledger booking (clearing -> merchant) is what is left. */
  connectorCaptured?: boolean;
}

export type PaymentStatus = PaymentState['status'];

/** No command moves a payment out of these. */
export const TERMINAL_STATUSES: ReadonlySet<PaymentStatus> = new Set<PaymentStatus>(['voided', 'expired', 'declined', 'failed', 'refunded']);

/** A command the payment refuses: names the command, the status it was refused in, and a stable reason code. */
export class PaymentStateError extends Error {
  constructor(
    readonly command: PaymentCommand['type'],
    readonly status: PaymentStatus,
    detail?: string,
    readonly reasonCode: PaymentRefusalCode = status === 'initial' ? 'payment_not_found' : 'invalid_state',
  ) {
    super(`cannot ${describe(command)} a payment in status '${status}'${detail ? ` (${detail})` : ''}`);
    this.name = 'PaymentStateError';
  }
}

/** 'CapturePayment' -> 'capture', 'RecordHoldPlaced' -> 'record hold placed'. */
function describe(command: PaymentCommand['type']): string {
  return command.replace(/Payment$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

export function initialPaymentState(): PaymentState {
  return { status: 'initial' };
}

export function isCaptured(state: PaymentState): state is Extract<PaymentState, { status: CapturedStatus }> {
  return (CAPTURED_STATUSES as readonly string[]).includes(state.status);
}

export function captureModeOf(payment: PaymentRequestedData): 'automatic' | 'manual' {
  return payment.captureMode ?? 'automatic';
}

/** The ledger id of a refund's reversal: stable per payment and refund, so a repeat is one reversal. */
export function refundTransferId(paymentId: string, refundId: string): string {
  return deriveMessageId(paymentId, `refund:${refundId}`);
}

export function decidePayment(command: PaymentCommand, state: PaymentState): PaymentEvent[] {
  switch (command.type) {
    case 'RequestPayment':
      if (state.status !== 'initial') throw new PaymentStateError(command.type, state.status);
      if (command.data.method !== 'wallet' && connectorSourceOf({ ...command.data, requestedAt: command.now }) === undefined) {
        throw new PaymentStateError(command.type, state.status, `method '${command.data.method}' needs its ${SOURCE_FIELDS[command.data.method]}`, 'payment_source_missing');
      }
      return [{ type: 'PaymentRequested', data: { ...command.data, requestedAt: command.now } }];
    case 'ApplyRiskAssessment':
      if (state.status !== 'requested') throw new PaymentStateError(command.type, state.status);
      return [riskOutcome(state.payment, command.data, command.now)];
    case 'ReviewPayment':
    case 'CapturePayment':
    case 'VoidPayment':
    case 'RefundPayment':
      return decideLifecycle(command, state);
    case 'RecordHoldPlaced':
      if (state.status !== 'authorizing') throw new PaymentStateError(command.type, state.status);
      assertSameHold(command, state.holdId, state.status);
      return authorizedEvents(state);
    case 'RecordHoldRejected':
      if (state.status !== 'authorizing') throw new PaymentStateError(command.type, state.status);
      assertSameHold(command, state.holdId, state.status);
      return [{ type: 'PaymentDeclined', data: { paymentId: state.payment.paymentId, stage: 'funds', reasonCode: command.data.reasonCode } }];
    case 'RecordHoldCaptured':
      if (state.status !== 'capturing') throw new PaymentStateError(command.type, state.status);
      assertSameHold(command, state.holdId, state.status);
      if (externalRailOf(state.payment) !== undefined && state.capture.connectorCaptured !== true) {
        throw new PaymentStateError(command.type, state.status, 'the connector has not captured yet');
      }
      return capturedEvents(state);
    case 'RecordCaptureRejected':
      if (state.status !== 'capturing') throw new PaymentStateError(command.type, state.status);
      assertSameHold(command, state.holdId, state.status);
      return captureRejected(state, command.data.reasonCode);
    case 'RecordHoldVoided':
      if (state.status !== 'voiding') throw new PaymentStateError(command.type, state.status);
      assertSameHold(command, state.holdId, state.status);
      return [{ type: 'PaymentVoided', data: { paymentId: state.payment.paymentId, holdId: state.holdId, releasedAmount: minorMoney(state.authorizedMinor, state.payment) } }];
    case 'RecordHoldExpired':
    case 'ExpireAuthorization': {
      // The ledger's HoldExpired in any uncaptured state; our own timer only while nothing else is asked
      // of the hold (the hold carries the same expiry, so the ledger releases it either way).
      const expirable = command.type === 'RecordHoldExpired' || state.status === 'authorized';
      if (!expirable || !isHeldUncaptured(state)) throw new PaymentStateError(command.type, state.status);
      assertSameHold(command, state.holdId, state.status);
      return [{ type: 'PaymentExpired', data: { paymentId: state.payment.paymentId, holdId: state.holdId, reasonCode: 'authorization_expired' } }];
    }
    case 'RecordRefundPosted':
    case 'RecordRefundRejected':
      return decideRefundOutcome(command, state);
    case 'TimeOutRiskAssessment':
      if (state.status !== 'requested') throw new PaymentStateError(command.type, state.status);
      return [{ type: 'PaymentDeclined', data: { paymentId: state.payment.paymentId, stage: 'risk', reasonCode: 'risk_timeout' } }];
    case 'TimeOutReview':
      if (state.status !== 'in_review') throw new PaymentStateError(command.type, state.status);
      return reviewTimedOut(state, command.data.holdId, command.now);
    case 'TimeOutHold':
      if (state.status !== 'authorizing') throw new PaymentStateError(command.type, state.status);
      assertSameHold(command, state.holdId, state.status);
      return [{ type: 'PaymentFailed', data: { paymentId: state.payment.paymentId, reasonCode: 'ledger_timeout' } }];
    case 'RecordConnectorResult':
      if (state.status === 'initial') throw new PaymentStateError(command.type, state.status);
      // Every attempt is recorded, even of a call the payment no longer waits for (a late answer).
      return [...attemptEvents(state.payment.paymentId, command.data), ...connectorOutcome(command.data, state)];
    case 'TimeOutConnector':
      if (state.status !== 'authorizing' || externalRailOf(state.payment) === undefined || state.connector !== undefined) {
        throw new PaymentStateError(command.type, state.status);
      }
      assertSameHold(command, state.holdId, state.status);
      return [{ type: 'PaymentFailed', data: { paymentId: state.payment.paymentId, reasonCode: 'connector_timeout' } }];
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

const SOURCE_FIELDS = { card: 'card', e_wallet: 'eWallet', mobile_money: 'mobileMoney' } as const;

/** The authorization is in place (ledger hold or connector): a sale captures the whole amount at once. */
function authorizedEvents(state: Extract<PaymentState, { status: 'authorizing' }>): PaymentEvent[] {
  const { paymentId, amount } = state.payment;
  const authorized: PaymentEvent = { type: 'PaymentAuthorized', data: { paymentId, holdId: state.holdId, amount } };
  if (captureModeOf(state.payment) === 'manual') return [authorized];
  return [authorized, { type: 'PaymentCaptureStarted', data: { paymentId, holdId: state.holdId, amount } }];
}

/** The idempotency key of the capture the payment is making: per capture command (a sale has none). */
export function captureCallId(state: Extract<PaymentState, { status: 'capturing' }>): string {
  return connectorCallId(state.payment.paymentId, 'capture', state.capture.commandId ?? state.holdId);
}

function attemptEvents(paymentId: string, call: ConnectorCallCompletedData): PaymentEvent[] {
  if (call.result.outcome === 'approved' && !call.attempts.some((attempt) => attempt.outcome === 'approved' && attempt.reference === (call.result as { reference: string }).reference)) {
    // The router returns an approval only with the attempt that got it: anything else is a programming error.
    throw new Error(`connector call ${call.callId} approved without an approved attempt`);
  }
  return call.attempts.map((attempt) => {
    const data: ConnectorAttemptData = { ...attempt, paymentId, callId: call.callId, operation: call.operation, ...(call.refundId ? { refundId: call.refundId } : {}) };
    const answered = attempt.outcome === 'approved' || attempt.outcome === 'declined';
    return answered ? { type: 'ConnectorAttemptSucceeded', data } : { type: 'ConnectorAttemptFailed', data };
  });
}

/**
 * What a connector's final answer does to the payment, when the payment still waits for that very
 * call; [] otherwise (a repeat, or an answer after a timeout). An approved capture or refund changes
 * the payment through its approved attempt (connectorCaptured / connectorRefunded): the ledger booking
 * follows, and only its answer captures or refunds the payment.
 */
function connectorOutcome(call: ConnectorCallCompletedData, state: Exclude<PaymentState, { status: 'initial' }>): PaymentEvent[] {
  const { paymentId } = state.payment;
  const { result } = call;
  switch (call.operation) {
    case 'authorize':
      if (state.status !== 'authorizing' || state.connector !== undefined || call.callId !== connectorCallId(paymentId, 'authorize', state.holdId)) return [];
      if (result.outcome === 'approved') return authorizedEvents(state);
      if (result.outcome === 'declined') return [{ type: 'PaymentDeclined', data: { paymentId, stage: 'connector', reasonCode: connectorRefusalReason(result) } }];
      return [{ type: 'PaymentFailed', data: { paymentId, reasonCode: connectorRefusalReason(result) } }];
    case 'capture':
      if (state.status !== 'capturing' || state.capture.connectorCaptured === true || call.callId !== captureCallId(state)) return [];
      return result.outcome === 'approved' ? [] : captureRejected(state, connectorRefusalReason(result), 'connector');
    case 'void': {
      if (state.status !== 'voiding' || call.callId !== connectorCallId(paymentId, 'void', state.voidCommandId)) return [];
      if (result.outcome === 'approved') {
        return [{ type: 'PaymentVoided', data: { paymentId, holdId: state.holdId, releasedAmount: minorMoney(state.authorizedMinor, state.payment) } }];
      }
      // The authorization stays in place: the caller hears why and may void again (another command id) or capture.
      const reasonCode = connectorRefusalReason(result);
      return [{
        type: 'PaymentCommandRejected',
        data: { paymentId, commandId: state.voidCommandId, commandType: 'VoidPayment', reasonCode, status: state.status, detail: `the connector refused the void: ${reasonCode}` },
      }];
    }
    case 'refund': {
      const refund = isCaptured(state) && call.refundId !== undefined ? state.refunds[call.refundId] : undefined;
      if (refund === undefined || refund.status !== 'pending' || refund.connectorRefunded === true) return [];
      if (call.callId !== connectorCallId(paymentId, 'refund', refund.refundId)) return [];
      if (result.outcome === 'approved') return [];
      return [{ type: 'RefundFailed', data: { paymentId, refundId: refund.refundId, amount: minorMoney(refund.amountMinor, state.payment), reasonCode: connectorRefusalReason(result) } }];
    }
    default: {
      const unreachable: never = call.operation;
      return unreachable;
    }
  }
}

function isHeldUncaptured(state: PaymentState): state is Extract<PaymentState, { status: 'authorized' | 'capturing' | 'voiding' }> {
  return state.status === 'authorized' || state.status === 'capturing' || state.status === 'voiding';
}

/**
 * Channel and analyst commands. A command id seen before is answered from the record: the same
 * body is a no-op, another body is refused; only then does the status decide.
 */
function decideLifecycle(command: PaymentLifecycleCommand, state: PaymentState): PaymentEvent[] {
  if (state.status === 'initial') throw new PaymentStateError(command.type, state.status);
  const fingerprint = fingerprintOf(command);
  const seen = state.commands[command.data.commandId];
  if (seen !== undefined) {
    if (seen === fingerprint) return [];
    throw new PaymentStateError(command.type, state.status, `command id ${command.data.commandId} was used for another request`, 'duplicate_command_different_body');
  }
  switch (command.type) {
    case 'ReviewPayment':
      return review(command, state, fingerprint);
    case 'CapturePayment':
      return capture(command, state, fingerprint);
    case 'VoidPayment':
      if (state.status !== 'authorized') throw new PaymentStateError(command.type, state.status);
      return [{ type: 'PaymentVoidStarted', data: { paymentId: state.payment.paymentId, holdId: state.holdId, commandId: command.data.commandId, fingerprint } }];
    case 'RefundPayment':
      return refund(command, state, fingerprint);
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

/** What a command asked, without its id (and without ids the caller derives, like a review's hold id). */
function fingerprintOf(command: PaymentLifecycleCommand): string {
  switch (command.type) {
    case 'ReviewPayment':
      return canonicalJson({ type: command.type, decision: command.data.decision, reviewerId: command.data.reviewerId });
    case 'CapturePayment':
      return canonicalJson({ type: command.type, amount: command.data.amount });
    case 'VoidPayment':
      return canonicalJson({ type: command.type });
    case 'RefundPayment':
      return canonicalJson({ type: command.type, refundId: command.data.refundId, amount: command.data.amount });
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

function review(command: Extract<PaymentLifecycleCommand, { type: 'ReviewPayment' }>, state: PaymentState, fingerprint: string): PaymentEvent[] {
  if (state.status !== 'in_review') throw new PaymentStateError(command.type, state.status);
  const { paymentId } = state.payment;
  const reviewed: PaymentEvent = {
    type: 'PaymentReviewed',
    data: { paymentId, decision: command.data.decision, commandId: command.data.commandId, fingerprint, ...(command.data.reviewerId ? { reviewerId: command.data.reviewerId } : {}) },
  };
  switch (command.data.decision) {
    case 'approve':
      return [reviewed, authorizationStarted(state.payment, command.data.holdId, state.riskScore, command.now)];
    case 'decline':
      return [reviewed, { type: 'PaymentDeclined', data: { paymentId, stage: 'review', reasonCode: 'review_declined' } }];
    default: {
      const unreachable: never = command.data.decision;
      return unreachable;
    }
  }
}

/** The reviewer recorded when the review timeout, not an analyst, approved a payment. */
export const REVIEW_TIMEOUT_REVIEWER = 'review_timeout';

/**
 * No analyst decided in time: the outcome chosen when the payment went into review (the merchant's
 * rule set, carried by RiskAssessed) applies. An approval is recorded as a review by
 * `review_timeout`, with a command id derived from the payment, so analysts see who decided.
 */
function reviewTimedOut(state: Extract<PaymentState, { status: 'in_review' }>, holdId: string, now: string): PaymentEvent[] {
  const { paymentId } = state.payment;
  switch (state.timeoutOutcome) {
    case 'decline':
      return [{ type: 'PaymentDeclined', data: { paymentId, stage: 'review', reasonCode: 'review_timeout' } }];
    case 'approve': {
      const commandId = deriveMessageId(paymentId, 'review-timeout');
      const fingerprint = canonicalJson({ type: 'ReviewPayment', decision: 'approve', reviewerId: REVIEW_TIMEOUT_REVIEWER });
      return [
        { type: 'PaymentReviewed', data: { paymentId, decision: 'approve', reviewerId: REVIEW_TIMEOUT_REVIEWER, commandId, fingerprint } },
        authorizationStarted(state.payment, holdId, state.riskScore, now),
      ];
    }
    default: {
      const unreachable: never = state.timeoutOutcome;
      return unreachable;
    }
  }
}

function capture(command: Extract<PaymentLifecycleCommand, { type: 'CapturePayment' }>, state: Exclude<PaymentState, { status: 'initial' }>, fingerprint: string): PaymentEvent[] {
  if (state.status !== 'authorized') throw new PaymentStateError(command.type, state.status);
  if (captureModeOf(state.payment) === 'automatic') {
    throw new PaymentStateError(command.type, state.status, 'a sale is captured automatically', 'capture_mode_automatic');
  }
  const amountMinor = command.data.amount === undefined ? state.authorizedMinor : amountIn(command, state, command.data.amount);
  if (amountMinor > state.authorizedMinor) {
    throw new PaymentStateError(command.type, state.status, `amount ${amountMinor} exceeds the authorized ${state.authorizedMinor}`, 'amount_exceeds_authorized');
  }
  return [{
    type: 'PaymentCaptureStarted',
    data: { paymentId: state.payment.paymentId, holdId: state.holdId, amount: minorMoney(amountMinor, state.payment), commandId: command.data.commandId, fingerprint },
  }];
}

function refund(command: Extract<PaymentLifecycleCommand, { type: 'RefundPayment' }>, state: Exclude<PaymentState, { status: 'initial' }>, fingerprint: string): PaymentEvent[] {
  if (!isCaptured(state)) throw new PaymentStateError(command.type, state.status);
  const { refundId } = command.data;
  const earlier = state.refunds[refundId];
  if (earlier !== undefined) {
    // The refund id is the refund's identity: asked again under another command id, same body is a no-op,
    // also once the payment is fully refunded (the retry of the last refund is still a retry).
    if (earlier.fingerprint === fingerprint) return [];
    throw new PaymentStateError(command.type, state.status, `refund ${refundId} was asked for another amount`, 'duplicate_command_different_body');
  }
  if (state.status === 'refunded') throw new PaymentStateError(command.type, state.status);
  const amountMinor = amountIn(command, state, command.data.amount);
  const refundableMinor = state.capturedMinor - state.refundedMinor - state.pendingRefundMinor;
  if (amountMinor > refundableMinor) {
    throw new PaymentStateError(command.type, state.status, `amount ${amountMinor} exceeds the refundable ${refundableMinor}`, 'amount_exceeds_refundable');
  }
  const { paymentId } = state.payment;
  return [{
    type: 'PaymentRefundStarted',
    data: {
      paymentId, refundId, amount: minorMoney(amountMinor, state.payment), transferId: refundTransferId(paymentId, refundId),
      commandId: command.data.commandId, fingerprint,
    },
  }];
}

function decideRefundOutcome(
  command: Extract<PaymentCommand, { type: 'RecordRefundPosted' | 'RecordRefundRejected' }>,
  state: PaymentState,
): PaymentEvent[] {
  if (!isCaptured(state)) throw new PaymentStateError(command.type, state.status);
  const pending = Object.values(state.refunds).find((refund) => refund.transferId === command.data.transferId && refund.status === 'pending');
  if (pending === undefined) throw new PaymentStateError(command.type, state.status, `no pending refund has transfer ${command.data.transferId}`);
  if (externalRailOf(state.payment) !== undefined && pending.connectorRefunded !== true) {
    throw new PaymentStateError(command.type, state.status, `the connector has not refunded ${pending.refundId} yet`);
  }
  const { paymentId } = state.payment;
  const amount = minorMoney(pending.amountMinor, state.payment);
  if (command.type === 'RecordRefundRejected') {
    return [{ type: 'RefundFailed', data: { paymentId, refundId: pending.refundId, amount, reasonCode: command.data.reasonCode } }];
  }
  const refundedTotal = minorMoney(state.refundedMinor + pending.amountMinor, state.payment);
  return [{ type: 'PaymentRefunded', data: { paymentId, refundId: pending.refundId, amount, refundedTotal, transferId: pending.transferId } }];
}

/** A refused capture: for a manual capture the caller hears why and may try again; a sale fails (the process releases its hold). */
function captureRejected(state: Extract<PaymentState, { status: 'capturing' }>, reasonCode: string, refusedBy: 'ledger' | 'connector' = 'ledger'): PaymentEvent[] {
  const { paymentId } = state.payment;
  if (reasonCode === 'hold_expired') return [{ type: 'PaymentExpired', data: { paymentId, holdId: state.holdId, reasonCode: 'authorization_expired' } }];
  const commandId = state.capture.commandId;
  if (commandId === undefined) return [{ type: 'PaymentFailed', data: { paymentId, reasonCode } }];
  return [{
    type: 'PaymentCommandRejected',
    data: { paymentId, commandId, commandType: 'CapturePayment', reasonCode, status: state.status, detail: `the ${refusedBy} refused the capture: ${reasonCode}` },
  }];
}

function amountIn(command: PaymentLifecycleCommand, state: Exclude<PaymentState, { status: 'initial' }>, amount: WireMoney): bigint {
  if (amount.currency !== state.payment.amount.currency) {
    throw new PaymentStateError(command.type, state.status, `currency ${amount.currency} is not the payment's ${state.payment.amount.currency}`, 'currency_mismatch');
  }
  return BigInt(amount.amountMinor);
}

function minorMoney(amountMinor: bigint, payment: PaymentRequestedData): WireMoney {
  return { amountMinor: amountMinor.toString(), currency: payment.amount.currency };
}

function assertSameHold(command: Extract<PaymentCommand, { data: { holdId: string } }>, holdId: string, status: PaymentStatus): void {
  if (command.data.holdId !== holdId) throw new PaymentStateError(command.type, status, `hold ${command.data.holdId} is not this payment's hold ${holdId}`);
}

function authorizationStarted(payment: PaymentRequestedData, holdId: string, riskScore: number, now: string): PaymentEvent {
  const expiresAt = new Date(Date.parse(now) + (payment.authorizationTtlMs ?? DEFAULT_AUTHORIZATION_TTL_MS)).toISOString();
  return { type: 'PaymentAuthorizationStarted', data: { paymentId: payment.paymentId, holdId, riskScore, expiresAt } };
}

function riskOutcome(payment: PaymentRequestedData, risk: Extract<PaymentCommand, { type: 'ApplyRiskAssessment' }>['data'], now: string): PaymentEvent {
  switch (risk.decision) {
    case 'approve':
      return authorizationStarted(payment, risk.holdId, risk.score, now);
    case 'review':
      return {
        type: 'PaymentInReview',
        data: { paymentId: payment.paymentId, riskScore: risk.score, reasons: risk.reasons, timeoutOutcome: risk.reviewTimeoutOutcome ?? DEFAULT_REVIEW_TIMEOUT_OUTCOME },
      };
    case 'decline':
      return { type: 'PaymentDeclined', data: { paymentId: payment.paymentId, stage: 'risk', reasonCode: risk.reasons[0] ?? 'risk_declined' } };
    default: {
      const unreachable: never = risk.decision;
      return unreachable;
    }
  }
}

/** The capture as the ledger posted it; settlement batches count it from here (apps/payments). */
function capturedEvents(state: Extract<PaymentState, { status: 'capturing' }>): PaymentEvent[] {
  const { payment } = state;
  const amount = minorMoney(state.capture.amountMinor, payment);
  return [{ type: 'PaymentCaptured', data: { paymentId: payment.paymentId, holdId: state.holdId, amount, authorizedAmount: minorMoney(state.authorizedMinor, payment) } }];
}

/** The status of a captured payment follows from its amounts: refunds in flight first, then how much came back. */
export function capturedStatus(payment: Pick<CapturedPayment, 'capturedMinor' | 'refundedMinor' | 'pendingRefundMinor'>): CapturedStatus {
  if (payment.pendingRefundMinor > 0n) return 'refunding';
  if (payment.refundedMinor === 0n) return 'captured';
  return payment.refundedMinor >= payment.capturedMinor ? 'refunded' : 'partially_refunded';
}

export function evolvePayment(state: PaymentState, event: PaymentEvent): PaymentState {
  if (event.type === 'PaymentRequested') return { status: 'requested', payment: event.data, commands: {} };
  if (state.status === 'initial') return state;
  const known: Known = { payment: state.payment, commands: state.commands };
  switch (event.type) {
    case 'PaymentAuthorizationStarted':
      return { ...known, status: 'authorizing', holdId: event.data.holdId, riskScore: event.data.riskScore, ...optionalExpiry(event.data.expiresAt) };
    case 'PaymentInReview':
      return { ...known, status: 'in_review', riskScore: event.data.riskScore, timeoutOutcome: event.data.timeoutOutcome ?? DEFAULT_REVIEW_TIMEOUT_OUTCOME };
    case 'PaymentReviewed':
      return { ...state, commands: remember(state, event.data.commandId, event.data.fingerprint) };
    case 'PaymentDeclined':
      return { ...known, status: 'declined', stage: event.data.stage, reasonCode: event.data.reasonCode };
    case 'PaymentAuthorized':
      return {
        ...known, status: 'authorized', holdId: event.data.holdId, authorizedMinor: BigInt(event.data.amount.amountMinor),
        ...optionalExpiry('expiresAt' in state ? state.expiresAt : undefined), ...connectorOf(state),
      };
    case 'PaymentCaptureStarted': {
      const commands = event.data.commandId !== undefined ? remember(state, event.data.commandId, event.data.fingerprint ?? '') : state.commands;
      const capture = { amountMinor: BigInt(event.data.amount.amountMinor), ...(event.data.commandId !== undefined ? { commandId: event.data.commandId } : {}) };
      return { ...known, ...heldOf(state, event.data.holdId), commands, status: 'capturing', capture };
    }
    case 'PaymentCaptured': {
      const captured = { capturedMinor: BigInt(event.data.amount.amountMinor), refundedMinor: 0n, pendingRefundMinor: 0n };
      return { ...known, ...heldOf(state, event.data.holdId), ...captured, refunds: {}, settled: false, status: capturedStatus(captured) };
    }
    case 'PaymentSettled':
      return isCaptured(state) ? { ...state, settled: true } : state;
    case 'PaymentVoidStarted':
      return { ...known, ...heldOf(state, event.data.holdId), commands: remember(state, event.data.commandId, event.data.fingerprint), status: 'voiding', voidCommandId: event.data.commandId };
    case 'PaymentVoided':
      return { ...known, status: 'voided', holdId: event.data.holdId };
    case 'PaymentExpired':
      return { ...known, status: 'expired', holdId: event.data.holdId, ...connectorOf(state) };
    case 'PaymentFailed':
      return { ...known, status: 'failed', reasonCode: event.data.reasonCode, ...('holdId' in state ? { holdId: state.holdId } : {}), ...connectorOf(state) };
    case 'PaymentRefundStarted':
    case 'PaymentRefunded':
    case 'RefundFailed':
      return evolveRefund(state, event);
    case 'PaymentCommandRejected':
      // A channel's command refused for reusing the id of the capture or void in flight (with another
      // body) changed nothing: the command in flight stands and its answer is still to come. Only the
      // ledger's or the connector's refusal of that command, below, gives the authorization back.
      if (!refusalEndsCommandInFlight(event.data)) return state;
      // A capture the ledger refused gives the payment back its authorization; other refusals changed nothing.
      if (state.status === 'capturing' && event.data.commandId === state.capture.commandId) {
        const { capture: _capture, ...authorized } = state;
        return { ...authorized, status: 'authorized' };
      }
      // A void the connector refused leaves the authorization in place.
      if (state.status === 'voiding' && event.data.commandId === state.voidCommandId) {
        const { voidCommandId: _voidCommandId, ...authorized } = state;
        return { ...authorized, status: 'authorized' };
      }
      return state;
    case 'ConnectorAttemptSucceeded':
      return event.data.outcome === 'approved' ? evolveApproval(state, event.data) : state;
    case 'ConnectorAttemptFailed':
      return state;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

function evolveRefund(state: Exclude<PaymentState, { status: 'initial' }>, event: Extract<PaymentEvent, { type: 'PaymentRefundStarted' | 'PaymentRefunded' | 'RefundFailed' }>): PaymentState {
  if (!isCaptured(state)) return state;
  const amountMinor = BigInt(event.data.amount.amountMinor);
  let { refundedMinor, pendingRefundMinor } = state;
  let refunds = state.refunds;
  let commands = state.commands;
  const earlier = refunds[event.data.refundId];
  switch (event.type) {
    case 'PaymentRefundStarted':
      pendingRefundMinor += amountMinor;
      commands = remember(state, event.data.commandId, event.data.fingerprint);
      refunds = { ...refunds, [event.data.refundId]: { refundId: event.data.refundId, transferId: event.data.transferId, amountMinor, status: 'pending', fingerprint: event.data.fingerprint } };
      break;
    case 'PaymentRefunded':
    case 'RefundFailed': {
      if (earlier === undefined || earlier.status !== 'pending') return state;
      pendingRefundMinor -= earlier.amountMinor;
      if (event.type === 'PaymentRefunded') refundedMinor += earlier.amountMinor;
      refunds = { ...refunds, [event.data.refundId]: { ...earlier, status: event.type === 'PaymentRefunded' ? 'refunded' : 'failed' } };
      break;
    }
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
  const amounts = { capturedMinor: state.capturedMinor, refundedMinor, pendingRefundMinor };
  return { ...state, ...amounts, refunds, commands, status: capturedStatus(amounts) };
}

function remember(state: Exclude<PaymentState, { status: 'initial' }>, commandId: string, fingerprint: string): Readonly<Record<string, string>> {
  return { ...state.commands, [commandId]: fingerprint };
}

/** The hold of a state that has one; evolve never throws, so an out-of-order event keeps what it can. */
function heldOf(state: Exclude<PaymentState, { status: 'initial' }>, holdId: string): Held {
  const authorizedMinor = 'authorizedMinor' in state ? state.authorizedMinor : BigInt(state.payment.amount.amountMinor);
  return { holdId, authorizedMinor, ...optionalExpiry('expiresAt' in state ? state.expiresAt : undefined), ...connectorOf(state) };
}

function connectorOf(state: Exclude<PaymentState, { status: 'initial' }>): { connector?: ConnectorAuthorization } {
  return 'connector' in state && state.connector !== undefined ? { connector: state.connector } : {};
}

/** An approved attempt of the call the payment waits for: where the authorization lives, or that the connector captured / refunded. */
function evolveApproval(state: Exclude<PaymentState, { status: 'initial' }>, attempt: ConnectorAttemptData): PaymentState {
  const { paymentId } = state.payment;
  switch (attempt.operation) {
    case 'authorize':
      if (state.status !== 'authorizing' || attempt.reference === null || attempt.callId !== connectorCallId(paymentId, 'authorize', state.holdId)) return state;
      return { ...state, connector: { connectorId: attempt.connectorId, reference: attempt.reference } };
    case 'capture':
      if (state.status !== 'capturing' || attempt.callId !== captureCallId(state)) return state;
      return { ...state, capture: { ...state.capture, connectorCaptured: true } };
    case 'refund': {
      const refund = isCaptured(state) && attempt.refundId !== undefined ? state.refunds[attempt.refundId] : undefined;
      if (!isCaptured(state) || refund === undefined || refund.status !== 'pending' || attempt.callId !== connectorCallId(paymentId, 'refund', refund.refundId)) return state;
      return { ...state, refunds: { ...state.refunds, [refund.refundId]: { ...refund, connectorRefunded: true } } };
    }
    case 'void':
      // PaymentVoided follows in the same decision.
      return state;
    default: {
      const unreachable: never = attempt.operation;
      return unreachable;
    }
  }
}

function optionalExpiry(expiresAt: string | undefined): { expiresAt?: string } {
  return expiresAt === undefined ? {} : { expiresAt };
}
