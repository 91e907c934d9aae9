import type {
  CaptureHoldData, CaptureRejectedData, HoldCapturedData, HoldPlacedData, HoldRejectedData, PlaceHoldData, RiskAssessedData,
} from '@clearline/contracts';
import type { PaymentCommand, PaymentEvent, PaymentState } from './payment.js';

/**
 * The payment process manager (saga) as a decider: an input event in, commands out, [] for what it
 * ignores. Inputs are the payment's own events and what risk and the ledger publish; outputs are
 * commands to the Payment aggregate and to the ledger.
 *
 * Happy path:   RiskAssessed(approve) -> ApplyRiskAssessment; PaymentAuthorizationStarted -> PlaceHold;
 *               HoldPlaced -> RecordHoldPlaced; PaymentAuthorized -> CaptureHold; HoldCaptured -> RecordHoldCaptured.
 * Compensation: HoldRejected -> RecordHoldRejected (the payment is declined for funds; nothing is held).
 */
export type ProcessInput =
  | PaymentEvent
  | { type: 'RiskAssessed'; data: RiskAssessedData }
  | { type: 'HoldPlaced'; data: HoldPlacedData }
  | { type: 'HoldRejected'; data: HoldRejectedData }
  | { type: 'HoldCaptured'; data: HoldCapturedData }
  | { type: 'CaptureRejected'; data: CaptureRejectedData };

export type LedgerCommand = { type: 'PlaceHold'; data: PlaceHoldData } | { type: 'CaptureHold'; data: CaptureHoldData };

export type ProcessOutput =
  | { target: 'payment'; command: Exclude<PaymentCommand, { type: 'RequestPayment' }> }
  | { target: 'ledger'; command: LedgerCommand };

export interface ProcessContext {
  /** The id for a hold this input may open; derived from the input message id by the caller. */
  newHoldId: string;
  now: string;
}

export function decidePaymentProcess(input: ProcessInput, state: PaymentState, context: ProcessContext): ProcessOutput[] {
  switch (input.type) {
    case 'RiskAssessed':
      return [{
        target: 'payment',
        command: { type: 'ApplyRiskAssessment', data: { score: input.data.score, decision: input.data.decision, reasons: input.data.reasons, holdId: context.newHoldId } },
      }];
    case 'PaymentAuthorizationStarted':
      // Only while the payment still waits for this hold: a late repeat must not hold funds again.
      if (state.status !== 'authorizing' || state.holdId !== input.data.holdId) return [];
      return [{
        target: 'ledger',
        command: {
          type: 'PlaceHold',
          data: { holdId: input.data.holdId, accountId: state.payment.payerAccountId, amount: state.payment.amount, paymentId: input.data.paymentId },
        },
      }];
    case 'HoldPlaced':
      return [{ target: 'payment', command: { type: 'RecordHoldPlaced', data: { holdId: input.data.holdId } } }];
    case 'HoldRejected':
      return [{ target: 'payment', command: { type: 'RecordHoldRejected', data: { holdId: input.data.holdId, reasonCode: input.data.reasonCode } } }];
    case 'PaymentAuthorized':
      // A sale captures as soon as it is authorized; separate capture arrives with the lifecycle issue.
      if (state.status !== 'authorized' || state.holdId !== input.data.holdId) return [];
      return [{
        target: 'ledger',
        command: {
          type: 'CaptureHold',
          data: {
            holdId: input.data.holdId,
            accountId: state.payment.payerAccountId,
            creditAccountId: state.payment.merchantAccountId,
            amount: input.data.amount,
            paymentId: input.data.paymentId,
          },
        },
      }];
    case 'HoldCaptured':
      return [{ target: 'payment', command: { type: 'RecordHoldCaptured', data: { holdId: input.data.holdId }, now: context.now } }];
    case 'CaptureRejected':
      return [{ target: 'payment', command: { type: 'RecordCaptureRejected', data: { holdId: input.data.holdId, reasonCode: input.data.reasonCode } } }];
    case 'PaymentRequested':
    case 'PaymentInReview':
    case 'PaymentDeclined':
    case 'PaymentCaptured':
    case 'PaymentSettled':
      return [];
    default: {
      const unreachable: never = input;
      return unreachable;
    }
  }
}
