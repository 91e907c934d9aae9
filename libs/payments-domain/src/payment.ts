import type {
  DeclineStage, PaymentAuthorizationStartedData, PaymentAuthorizedData, PaymentCapturedData, PaymentDeclinedData,
  PaymentInReviewData, PaymentRequestedData, PaymentSettledData, RequestPaymentData, RiskDecision,
} from '@clearline/contracts';

/**
 * The Payment aggregate as a decider: decide(command, state) -> events, evolve(state, event) -> state.
 * Walking-skeleton lifecycle: requested -> (risk) authorizing -> authorized -> captured -> settled,
 * or declined by risk or by the ledger, or parked in review. Pure: time and ids come in commands.
 */
export type PaymentEvent =
  | { type: 'PaymentRequested'; data: PaymentRequestedData }
  | { type: 'PaymentAuthorizationStarted'; data: PaymentAuthorizationStartedData }
  | { type: 'PaymentInReview'; data: PaymentInReviewData }
  | { type: 'PaymentDeclined'; data: PaymentDeclinedData }
  | { type: 'PaymentAuthorized'; data: PaymentAuthorizedData }
  | { type: 'PaymentCaptured'; data: PaymentCapturedData }
  | { type: 'PaymentSettled'; data: PaymentSettledData };

export const PAYMENT_EVENT_TYPES: ReadonlySet<string> = new Set<PaymentEvent['type']>([
  'PaymentRequested', 'PaymentAuthorizationStarted', 'PaymentInReview', 'PaymentDeclined', 'PaymentAuthorized',
  'PaymentCaptured', 'PaymentSettled',
]);

export type PaymentCommand =
  | { type: 'RequestPayment'; data: RequestPaymentData; now: string }
  | { type: 'ApplyRiskAssessment'; data: { score: number; decision: RiskDecision; reasons: string[]; holdId: string } }
  | { type: 'RecordHoldPlaced'; data: { holdId: string } }
  | { type: 'RecordHoldRejected'; data: { holdId: string; reasonCode: string } }
  | { type: 'RecordHoldCaptured'; data: { holdId: string }; now: string }
  | { type: 'RecordCaptureRejected'; data: { holdId: string; reasonCode: string } };

export type PaymentStatus = PaymentState['status'];

export type PaymentState =
  | { status: 'initial' }
  | { status: 'requested'; payment: PaymentRequestedData }
  | { status: 'in_review'; payment: PaymentRequestedData; riskScore: number }
  | { status: 'authorizing'; payment: PaymentRequestedData; holdId: string; riskScore: number }
  | { status: 'authorized'; payment: PaymentRequestedData; holdId: string }
  | { status: 'captured'; payment: PaymentRequestedData; holdId: string }
  | { status: 'settled'; payment: PaymentRequestedData; holdId: string }
  | { status: 'declined'; payment: PaymentRequestedData; stage: DeclineStage; reasonCode: string };

export class PaymentStateError extends Error {
  constructor(readonly command: PaymentCommand['type'], readonly status: PaymentStatus, detail?: string) {
    super(`cannot ${describe(command)} a payment in status '${status}'${detail ? ` (${detail})` : ''}`);
    this.name = 'PaymentStateError';
  }
}

function describe(command: PaymentCommand['type']): string {
  return command.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

export function initialPaymentState(): PaymentState {
  return { status: 'initial' };
}

export function decidePayment(command: PaymentCommand, state: PaymentState): PaymentEvent[] {
  switch (command.type) {
    case 'RequestPayment':
      if (state.status !== 'initial') throw new PaymentStateError(command.type, state.status);
      return [{ type: 'PaymentRequested', data: { ...command.data, requestedAt: command.now } }];
    case 'ApplyRiskAssessment':
      if (state.status !== 'requested') throw new PaymentStateError(command.type, state.status);
      return [riskOutcome(state.payment, command.data)];
    case 'RecordHoldPlaced':
      if (state.status !== 'authorizing') throw new PaymentStateError(command.type, state.status);
      assertSameHold(command, state.holdId, state.status);
      return [{ type: 'PaymentAuthorized', data: { paymentId: state.payment.paymentId, holdId: state.holdId, amount: state.payment.amount } }];
    case 'RecordHoldRejected':
      if (state.status !== 'authorizing') throw new PaymentStateError(command.type, state.status);
      assertSameHold(command, state.holdId, state.status);
      return [{ type: 'PaymentDeclined', data: { paymentId: state.payment.paymentId, stage: 'funds', reasonCode: command.data.reasonCode } }];
    case 'RecordHoldCaptured':
      if (state.status !== 'authorized') throw new PaymentStateError(command.type, state.status);
      assertSameHold(command, state.holdId, state.status);
      return captureAndSettle(state.payment, state.holdId, command.now);
    case 'RecordCaptureRejected':
      // The ledger keeps the hold; an operator (or the lifecycle issue's retry policy) decides next.
      if (state.status !== 'authorized') throw new PaymentStateError(command.type, state.status);
      assertSameHold(command, state.holdId, state.status);
      return [];
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

function assertSameHold(command: Extract<PaymentCommand, { data: { holdId: string } }>, holdId: string, status: PaymentStatus): void {
  if (command.data.holdId !== holdId) throw new PaymentStateError(command.type, status, `hold ${command.data.holdId} is not this payment's hold ${holdId}`);
}

function riskOutcome(payment: PaymentRequestedData, risk: Extract<PaymentCommand, { type: 'ApplyRiskAssessment' }>['data']): PaymentEvent {
  switch (risk.decision) {
    case 'approve':
      return { type: 'PaymentAuthorizationStarted', data: { paymentId: payment.paymentId, holdId: risk.holdId, riskScore: risk.score } };
    case 'review':
      return { type: 'PaymentInReview', data: { paymentId: payment.paymentId, riskScore: risk.score, reasons: risk.reasons } };
    case 'decline':
      return { type: 'PaymentDeclined', data: { paymentId: payment.paymentId, stage: 'risk', reasonCode: risk.reasons[0] ?? 'risk_declined' } };
    default: {
      const unreachable: never = risk.decision;
      return unreachable;
    }
  }
}

/** Walking skeleton: a captured sale settles at once (a batch of one); settlement batches come later. */
function captureAndSettle(payment: PaymentRequestedData, holdId: string, now: string): PaymentEvent[] {
  return [
    { type: 'PaymentCaptured', data: { paymentId: payment.paymentId, holdId, amount: payment.amount } },
    {
      type: 'PaymentSettled',
      data: {
        paymentId: payment.paymentId,
        merchantId: payment.merchantId,
        merchantAccountId: payment.merchantAccountId,
        amount: payment.amount,
        settledAt: now,
      },
    },
  ];
}

export function evolvePayment(state: PaymentState, event: PaymentEvent): PaymentState {
  if (event.type === 'PaymentRequested') return { status: 'requested', payment: event.data };
  if (state.status === 'initial') return state;
  const payment = state.payment;
  switch (event.type) {
    case 'PaymentAuthorizationStarted':
      return { status: 'authorizing', payment, holdId: event.data.holdId, riskScore: event.data.riskScore };
    case 'PaymentInReview':
      return { status: 'in_review', payment, riskScore: event.data.riskScore };
    case 'PaymentDeclined':
      return { status: 'declined', payment, stage: event.data.stage, reasonCode: event.data.reasonCode };
    case 'PaymentAuthorized':
      return { status: 'authorized', payment, holdId: event.data.holdId };
    case 'PaymentCaptured':
      return { status: 'captured', payment, holdId: event.data.holdId };
    case 'PaymentSettled':
      return { status: 'settled', payment, holdId: 'holdId' in state ? state.holdId : '' };
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
