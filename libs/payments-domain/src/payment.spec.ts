// Proves the Payment aggregate: each command is accepted in exactly the states the lifecycle allows, yields the expected events, and is otherwise refused with a PaymentStateError naming the current state.
import type { PaymentRequestedData, RequestPaymentData } from '@clearline/contracts';
import {
  decidePayment, evolvePayment, initialPaymentState, PAYMENT_EVENT_TYPES, PaymentStateError,
  type PaymentCommand, type PaymentEvent, type PaymentState, type PaymentStatus,
} from './payment.js';

const PAYMENT_ID = '5b0c6f0e-8d1a-5e2b-9c3d-4e5f6a7b8c9d';
const HOLD_ID = '0f1e2d3c-4b5a-5968-8776-655443322110';
const OTHER_HOLD_ID = 'a1b2c3d4-e5f6-5a7b-8c9d-e0f1a2b3c4d5';
const REQUESTED_AT = '2025-03-01T09:00:00Z';
const SETTLED_AT = '2025-03-01T09:00:02.500Z';

const request: RequestPaymentData = {
  paymentId: PAYMENT_ID,
  channel: 'e_wallet',
  merchantId: 'merchant-1',
  merchantAccountId: 'merchant-account-1',
  payerAccountId: 'wallet-1',
  amount: { amountMinor: '2500', currency: 'EUR' },
  method: 'wallet',
  description: 'Order 42',
};
const payment: PaymentRequestedData = { ...request, requestedAt: REQUESTED_AT };

// Events.
const requested: PaymentEvent = { type: 'PaymentRequested', data: payment };
const authorizationStarted: PaymentEvent = { type: 'PaymentAuthorizationStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, riskScore: 10 } };
const inReview: PaymentEvent = { type: 'PaymentInReview', data: { paymentId: PAYMENT_ID, riskScore: 60, reasons: ['velocity_payer_1m'] } };
const declinedByRisk: PaymentEvent = { type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'risk', reasonCode: 'velocity_payer_1m' } };
const declinedForFunds: PaymentEvent = { type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'funds', reasonCode: 'insufficient_funds' } };
const authorized: PaymentEvent = { type: 'PaymentAuthorized', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount: request.amount } };
const captured: PaymentEvent = { type: 'PaymentCaptured', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount: request.amount } };
const settled: PaymentEvent = {
  type: 'PaymentSettled',
  data: { paymentId: PAYMENT_ID, merchantId: 'merchant-1', merchantAccountId: 'merchant-account-1', amount: request.amount, settledAt: SETTLED_AT },
};

// Commands.
const requestPayment: PaymentCommand = { type: 'RequestPayment', data: request, now: REQUESTED_AT };
const applyRisk = (decision: 'approve' | 'review' | 'decline', score: number, reasons: string[]): PaymentCommand =>
  ({ type: 'ApplyRiskAssessment', data: { score, decision, reasons, holdId: HOLD_ID } });
const recordHoldPlaced = (holdId = HOLD_ID): PaymentCommand => ({ type: 'RecordHoldPlaced', data: { holdId } });
const recordHoldRejected = (holdId = HOLD_ID): PaymentCommand => ({ type: 'RecordHoldRejected', data: { holdId, reasonCode: 'insufficient_funds' } });
const recordHoldCaptured = (holdId = HOLD_ID): PaymentCommand => ({ type: 'RecordHoldCaptured', data: { holdId }, now: SETTLED_AT });
const recordCaptureRejected = (holdId = HOLD_ID): PaymentCommand => ({ type: 'RecordCaptureRejected', data: { holdId, reasonCode: 'hold_not_found' } });

/** Every command once, with the words its error message uses. */
const EVERY_COMMAND: [PaymentCommand, string][] = [
  [requestPayment, 'request payment'],
  [applyRisk('approve', 0, []), 'apply risk assessment'],
  [recordHoldPlaced(), 'record hold placed'],
  [recordHoldRejected(), 'record hold rejected'],
  [recordHoldCaptured(), 'record hold captured'],
  [recordCaptureRejected(), 'record capture rejected'],
];

/** The commands of EVERY_COMMAND a state refuses, for it.each. */
function refusedExcept(...accepted: PaymentCommand['type'][]): [PaymentCommand['type'], PaymentCommand, string][] {
  return EVERY_COMMAND.filter(([command]) => !accepted.includes(command.type)).map(([command, words]) => [command.type, command, words]);
}

function stateAfter(events: PaymentEvent[]): PaymentState {
  return events.reduce(evolvePayment, initialPaymentState());
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the command to be refused');
}

/** given(payment events | a state).when(command).then(events) or .thenRefused(message), plus the status the events lead to. */
function given(history: PaymentEvent[] | PaymentState) {
  const state = Array.isArray(history) ? stateAfter(history) : history;
  return {
    when: (command: PaymentCommand) => ({
      then: (expected: PaymentEvent[]) => {
        const events = decidePayment(command, state);
        expect(events).toEqual(expected);
        return { andStatusIs: (status: PaymentStatus) => expect(events.reduce(evolvePayment, state).status).toBe(status) };
      },
      thenRefused: (message: string) => {
        const error = thrownBy(() => decidePayment(command, state));
        expect(error).toBeInstanceOf(PaymentStateError);
        expect(error).toMatchObject({ name: 'PaymentStateError', message, command: command.type, status: state.status });
      },
    }),
  };
}

describe('Payment', () => {
  it('lists exactly the seven payment event types', () => {
    expect([...PAYMENT_EVENT_TYPES].sort()).toEqual([
      'PaymentAuthorizationStarted', 'PaymentAuthorized', 'PaymentCaptured', 'PaymentDeclined', 'PaymentInReview', 'PaymentRequested', 'PaymentSettled',
    ]);
  });

  describe('when initial', () => {
    it('starts initial', () => {
      expect(initialPaymentState()).toEqual({ status: 'initial' });
    });

    it('RequestPayment records the request with the time it was accepted', () => {
      given([]).when(requestPayment).then([requested]).andStatusIs('requested');
    });

    it('RequestPayment keeps the optional risk context', () => {
      const withContext: RequestPaymentData = { ...request, riskContext: { ipAddress: '203.0.113.7', deviceId: 'device-9' } };
      given([]).when({ type: 'RequestPayment', data: withContext, now: REQUESTED_AT })
        .then([{ type: 'PaymentRequested', data: { ...withContext, requestedAt: REQUESTED_AT } }]);
    });

    it.each(refusedExcept('RequestPayment'))('%s is refused', (_type, command, words) => {
      given([]).when(command).thenRefused(`cannot ${words} a payment in status 'initial'`);
    });

    it.each([authorizationStarted, inReview, declinedByRisk, authorized, captured, settled])(
      'evolve ignores $type before PaymentRequested instead of throwing', (event) => {
        expect(stateAfter([event])).toEqual({ status: 'initial' });
      },
    );
  });

  describe('when requested', () => {
    const history = [requested];

    it('is requested with the payment', () => {
      expect(stateAfter(history)).toEqual({ status: 'requested', payment });
    });

    it('ApplyRiskAssessment(approve) starts authorization with the new hold id and the score', () => {
      given(history).when(applyRisk('approve', 10, [])).then([authorizationStarted]).andStatusIs('authorizing');
    });

    it('ApplyRiskAssessment(review) parks the payment with the score and reasons', () => {
      given(history).when(applyRisk('review', 60, ['velocity_payer_1m'])).then([inReview]).andStatusIs('in_review');
    });

    it('ApplyRiskAssessment(decline) declines at the risk stage with the weightiest reason', () => {
      given(history).when(applyRisk('decline', 90, ['velocity_payer_1m', 'amount_above_limit'])).then([declinedByRisk]).andStatusIs('declined');
    });

    it('ApplyRiskAssessment(decline) without reasons declines with risk_declined', () => {
      given(history).when(applyRisk('decline', 100, []))
        .then([{ type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'risk', reasonCode: 'risk_declined' } }]);
    });

    it.each(refusedExcept('ApplyRiskAssessment'))('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'requested'`);
    });
  });

  describe('when in review', () => {
    const history = [requested, inReview];

    it('is in review with the score', () => {
      expect(stateAfter(history)).toEqual({ status: 'in_review', payment, riskScore: 60 });
    });

    it.each(refusedExcept())('%s is refused (an analyst decision has no command yet)', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'in_review'`);
    });
  });

  describe('when authorizing', () => {
    const history = [requested, authorizationStarted];

    it('is authorizing with the hold id and the score', () => {
      expect(stateAfter(history)).toEqual({ status: 'authorizing', payment, holdId: HOLD_ID, riskScore: 10 });
    });

    it('RecordHoldPlaced for its hold authorizes the payment for its amount', () => {
      given(history).when(recordHoldPlaced()).then([authorized]).andStatusIs('authorized');
    });

    it('RecordHoldRejected for its hold declines the payment at the funds stage with the ledger reason', () => {
      given(history).when(recordHoldRejected()).then([declinedForFunds]).andStatusIs('declined');
    });

    it('RecordHoldPlaced for another hold is refused', () => {
      given(history).when(recordHoldPlaced(OTHER_HOLD_ID)).thenRefused(`cannot record hold placed a payment in status 'authorizing' (hold ${OTHER_HOLD_ID} is not this payment's hold ${HOLD_ID})`);
    });

    it('RecordHoldRejected for another hold is refused', () => {
      given(history).when(recordHoldRejected(OTHER_HOLD_ID)).thenRefused(`cannot record hold rejected a payment in status 'authorizing' (hold ${OTHER_HOLD_ID} is not this payment's hold ${HOLD_ID})`);
    });

    it.each(refusedExcept('RecordHoldPlaced', 'RecordHoldRejected'))('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'authorizing'`);
    });
  });

  describe('when authorized', () => {
    const history = [requested, authorizationStarted, authorized];

    it('is authorized with the hold id', () => {
      expect(stateAfter(history)).toEqual({ status: 'authorized', payment, holdId: HOLD_ID });
    });

    it('RecordHoldCaptured captures and settles at once (a settlement batch of one), at the time given', () => {
      given(history).when(recordHoldCaptured()).then([captured, settled]).andStatusIs('settled');
    });

    it('RecordCaptureRejected records nothing: the hold stays and the payment stays authorized', () => {
      given(history).when(recordCaptureRejected()).then([]).andStatusIs('authorized');
    });

    it('RecordHoldCaptured for another hold is refused', () => {
      given(history).when(recordHoldCaptured(OTHER_HOLD_ID)).thenRefused(`cannot record hold captured a payment in status 'authorized' (hold ${OTHER_HOLD_ID} is not this payment's hold ${HOLD_ID})`);
    });

    it('RecordCaptureRejected for another hold is refused', () => {
      given(history).when(recordCaptureRejected(OTHER_HOLD_ID)).thenRefused(`cannot record capture rejected a payment in status 'authorized' (hold ${OTHER_HOLD_ID} is not this payment's hold ${HOLD_ID})`);
    });

    it.each(refusedExcept('RecordHoldCaptured', 'RecordCaptureRejected'))('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'authorized'`);
    });
  });

  describe('when captured', () => {
    const history = [requested, authorizationStarted, authorized, captured];

    it('is captured with the hold id', () => {
      expect(stateAfter(history)).toEqual({ status: 'captured', payment, holdId: HOLD_ID });
    });

    it.each(refusedExcept())('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'captured'`);
    });
  });

  describe('when settled', () => {
    const history = [requested, authorizationStarted, authorized, captured, settled];

    it('is settled and keeps the hold id', () => {
      expect(stateAfter(history)).toEqual({ status: 'settled', payment, holdId: HOLD_ID });
    });

    it.each(refusedExcept())('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'settled'`);
    });
  });

  describe('when declined by risk', () => {
    const history = [requested, declinedByRisk];

    it('is declined at the risk stage with the reason', () => {
      expect(stateAfter(history)).toEqual({ status: 'declined', payment, stage: 'risk', reasonCode: 'velocity_payer_1m' });
    });

    it.each(refusedExcept())('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'declined'`);
    });
  });

  describe('when declined for funds', () => {
    const history = [requested, authorizationStarted, declinedForFunds];

    it('is declined at the funds stage with the ledger reason', () => {
      expect(stateAfter(history)).toEqual({ status: 'declined', payment, stage: 'funds', reasonCode: 'insufficient_funds' });
    });

    it.each(refusedExcept())('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'declined'`);
    });
  });

  describe('PaymentStateError', () => {
    it('carries the command and the status it was refused in', () => {
      const error = new PaymentStateError('RecordHoldPlaced', 'initial');
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({
        name: 'PaymentStateError', command: 'RecordHoldPlaced', status: 'initial',
        message: "cannot record hold placed a payment in status 'initial'",
      });
    });
  });
});
