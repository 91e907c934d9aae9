// Proves the payment process manager: which command it sends for every input (or [] where it ignores one), and that its commands drive the Payment aggregate along the happy path and the funds compensation.
import type {
  CaptureRejectedData, HoldCapturedData, HoldPlacedData, HoldRejectedData, PaymentRequestedData, RiskAssessedData, WireBalances,
} from '@clearline/contracts';
import {
  decidePayment, evolvePayment, initialPaymentState, type PaymentEvent, type PaymentState,
} from './payment.js';
import { decidePaymentProcess, type ProcessContext, type ProcessInput, type ProcessOutput } from './payment-process.js';

const PAYMENT_ID = '5b0c6f0e-8d1a-5e2b-9c3d-4e5f6a7b8c9d';
const HOLD_ID = '0f1e2d3c-4b5a-5968-8776-655443322110';
const NEW_HOLD_ID = 'c0ffee00-1234-5678-9abc-def012345678';
const REQUESTED_AT = '2025-03-01T09:00:00Z';
const NOW = '2025-03-01T09:00:02.500Z';
const context: ProcessContext = { newHoldId: NEW_HOLD_ID, now: NOW };

const amount = { amountMinor: '2500', currency: 'EUR' };
const payment: PaymentRequestedData = {
  paymentId: PAYMENT_ID, channel: 'card_acquiring', merchantId: 'merchant-1', merchantAccountId: 'merchant-account-1',
  payerAccountId: 'wallet-1', amount, method: 'card', requestedAt: REQUESTED_AT,
};
const anyBalances: WireBalances = { currency: 'EUR', postedMinor: '10000', pendingMinor: '2500', availableMinor: '7500' };

// The payment's own events.
const requested: PaymentEvent = { type: 'PaymentRequested', data: payment };
const authorizationStarted: PaymentEvent = { type: 'PaymentAuthorizationStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, riskScore: 10 } };
const authorized: PaymentEvent = { type: 'PaymentAuthorized', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount } };

// What risk and the ledger publish.
const riskAssessed = (decision: RiskAssessedData['decision'], score: number, reasons: string[]): ProcessInput => ({
  type: 'RiskAssessed', data: { paymentId: PAYMENT_ID, payerAccountId: 'wallet-1', score, decision, reasons, ruleSetVersion: 'skeleton-1' },
});
const holdPlaced: HoldPlacedData = { holdId: HOLD_ID, accountId: 'wallet-1', amount, paymentId: PAYMENT_ID, balances: anyBalances };
const holdRejected: HoldRejectedData = { holdId: HOLD_ID, accountId: 'wallet-1', amount, paymentId: PAYMENT_ID, reasonCode: 'insufficient_funds' };
const holdCaptured: HoldCapturedData = {
  holdId: HOLD_ID, accountId: 'wallet-1', creditAccountId: 'merchant-account-1', amount, paymentId: PAYMENT_ID,
  debitBalances: anyBalances, creditBalances: anyBalances,
};
const captureRejected: CaptureRejectedData = {
  holdId: HOLD_ID, accountId: 'wallet-1', creditAccountId: 'merchant-account-1', amount, paymentId: PAYMENT_ID, reasonCode: 'hold_amount_mismatch',
};

function stateAfter(events: PaymentEvent[]): PaymentState {
  return events.reduce(evolvePayment, initialPaymentState());
}

function last(events: PaymentEvent[]): PaymentEvent {
  const event = events.at(-1);
  if (!event) throw new Error('expected at least one event');
  return event;
}

/** given(payment events).when(input).then(outputs): the process manager reads the payment's state, never changes it. */
function given(history: PaymentEvent[]) {
  const state = stateAfter(history);
  return {
    when: (input: ProcessInput) => ({
      then: (expected: ProcessOutput[]) => expect(decidePaymentProcess(input, state, context)).toEqual(expected),
    }),
  };
}

describe('payment process', () => {
  describe('when requested', () => {
    const history = [requested];

    it.each([
      ['approve', 10, []],
      ['review', 60, ['velocity_payer_1m']],
      ['decline', 90, ['velocity_payer_1m', 'amount_above_limit']],
    ] as const)('RiskAssessed(%s) -> ApplyRiskAssessment with the score, reasons and a new hold id', (decision, score, reasons) => {
      given(history).when(riskAssessed(decision, score, [...reasons])).then([{
        target: 'payment',
        command: { type: 'ApplyRiskAssessment', data: { score, decision, reasons: [...reasons], holdId: NEW_HOLD_ID } },
      }]);
    });
  });

  describe('when authorizing', () => {
    const history = [requested, authorizationStarted];

    it('PaymentAuthorizationStarted -> PlaceHold on the payer account for the payment amount', () => {
      given(history).when(authorizationStarted).then([{
        target: 'ledger',
        command: { type: 'PlaceHold', data: { holdId: HOLD_ID, accountId: 'wallet-1', amount, paymentId: PAYMENT_ID } },
      }]);
    });

    it('HoldPlaced -> RecordHoldPlaced', () => {
      given(history).when({ type: 'HoldPlaced', data: holdPlaced })
        .then([{ target: 'payment', command: { type: 'RecordHoldPlaced', data: { holdId: HOLD_ID } } }]);
    });

    it('HoldRejected -> RecordHoldRejected with the ledger reason (compensation: nothing is held)', () => {
      given(history).when({ type: 'HoldRejected', data: holdRejected })
        .then([{ target: 'payment', command: { type: 'RecordHoldRejected', data: { holdId: HOLD_ID, reasonCode: 'insufficient_funds' } } }]);
    });
  });

  describe('when authorized', () => {
    const history = [requested, authorizationStarted, authorized];

    it('PaymentAuthorized -> CaptureHold from the payer to the merchant account for the authorized amount', () => {
      given(history).when(authorized).then([{
        target: 'ledger',
        command: {
          type: 'CaptureHold',
          data: { holdId: HOLD_ID, accountId: 'wallet-1', creditAccountId: 'merchant-account-1', amount, paymentId: PAYMENT_ID },
        },
      }]);
    });

    it('HoldCaptured -> RecordHoldCaptured at the time given', () => {
      given(history).when({ type: 'HoldCaptured', data: holdCaptured })
        .then([{ target: 'payment', command: { type: 'RecordHoldCaptured', data: { holdId: HOLD_ID }, now: NOW } }]);
    });

    it('CaptureRejected -> RecordCaptureRejected with the ledger reason', () => {
      given(history).when({ type: 'CaptureRejected', data: captureRejected })
        .then([{ target: 'payment', command: { type: 'RecordCaptureRejected', data: { holdId: HOLD_ID, reasonCode: 'hold_amount_mismatch' } } }]);
    });
  });

  describe('when the payment has moved on (late repeats of its own events)', () => {
    it('PaymentAuthorizationStarted after a funds decline -> [] (no second hold for a declined payment)', () => {
      const declined: PaymentEvent = { type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'funds', reasonCode: 'insufficient_funds' } };
      given([requested, authorizationStarted, declined]).when(authorizationStarted).then([]);
    });

    it('PaymentAuthorized after the capture -> [] (no second capture)', () => {
      const captured: PaymentEvent = { type: 'PaymentCaptured', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount } };
      given([requested, authorizationStarted, authorized, captured]).when(authorized).then([]);
    });
  });

  describe('when initial (the payment is not known yet)', () => {
    it('PaymentAuthorizationStarted -> [] (no payer account to hold on)', () => {
      given([]).when(authorizationStarted).then([]);
    });

    it('PaymentAuthorized -> [] (no accounts to capture between)', () => {
      given([]).when(authorized).then([]);
    });

    it('RiskAssessed -> ApplyRiskAssessment anyway: the Payment aggregate decides whether it applies', () => {
      given([]).when(riskAssessed('approve', 0, [])).then([{
        target: 'payment',
        command: { type: 'ApplyRiskAssessment', data: { score: 0, decision: 'approve', reasons: [], holdId: NEW_HOLD_ID } },
      }]);
    });
  });

  describe('inputs it ignores', () => {
    const ignored: ProcessInput[] = [
      requested,
      { type: 'PaymentInReview', data: { paymentId: PAYMENT_ID, riskScore: 60, reasons: ['velocity_payer_1m'] } },
      { type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'risk', reasonCode: 'velocity_payer_1m' } },
      { type: 'PaymentCaptured', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount } },
      {
        type: 'PaymentSettled',
        data: { paymentId: PAYMENT_ID, merchantId: 'merchant-1', merchantAccountId: 'merchant-account-1', amount, settledAt: NOW },
      },
    ];

    it.each(ignored)('$type -> []', (input) => {
      given([requested, authorizationStarted, authorized]).when(input).then([]);
    });
  });

  describe('the process manager and the Payment aggregate together', () => {
    /** Feeds each output meant for the payment to decidePayment and returns the events it appends. */
    function deliver(outputs: ProcessOutput[], events: PaymentEvent[]): PaymentEvent[] {
      return outputs.flatMap((output) => (output.target === 'payment' ? decidePayment(output.command, stateAfter(events)) : []));
    }

    it('happy path: request, approve, hold, authorize, capture, settle', () => {
      const events: PaymentEvent[] = decidePayment({ type: 'RequestPayment', data: payment, now: REQUESTED_AT }, initialPaymentState());

      events.push(...deliver(decidePaymentProcess(riskAssessed('approve', 10, []), stateAfter(events), context), events));
      expect(last(events)).toEqual({ type: 'PaymentAuthorizationStarted', data: { paymentId: PAYMENT_ID, holdId: NEW_HOLD_ID, riskScore: 10 } });

      const [placeHold] = decidePaymentProcess(last(events), stateAfter(events), context);
      expect(placeHold).toMatchObject({ target: 'ledger', command: { type: 'PlaceHold', data: { holdId: NEW_HOLD_ID } } });
      const placed: HoldPlacedData = { ...holdPlaced, holdId: NEW_HOLD_ID };
      events.push(...deliver(decidePaymentProcess({ type: 'HoldPlaced', data: placed }, stateAfter(events), context), events));
      expect(last(events)).toEqual({ type: 'PaymentAuthorized', data: { paymentId: PAYMENT_ID, holdId: NEW_HOLD_ID, amount } });

      const [captureHold] = decidePaymentProcess(last(events), stateAfter(events), context);
      expect(captureHold).toMatchObject({ target: 'ledger', command: { type: 'CaptureHold', data: { holdId: NEW_HOLD_ID, amount } } });
      const capturedByLedger: HoldCapturedData = { ...holdCaptured, holdId: NEW_HOLD_ID };
      events.push(...deliver(decidePaymentProcess({ type: 'HoldCaptured', data: capturedByLedger }, stateAfter(events), context), events));

      expect(events.map((event) => event.type)).toEqual([
        'PaymentRequested', 'PaymentAuthorizationStarted', 'PaymentAuthorized', 'PaymentCaptured', 'PaymentSettled',
      ]);
      expect(stateAfter(events)).toEqual({ status: 'settled', payment, holdId: NEW_HOLD_ID });
      for (const event of events.slice(3)) expect(decidePaymentProcess(event, stateAfter(events), context)).toEqual([]);
    });

    it('compensation: the ledger refuses the hold and the payment is declined for funds', () => {
      const events: PaymentEvent[] = [requested];
      events.push(...deliver(decidePaymentProcess(riskAssessed('approve', 10, []), stateAfter(events), context), events));
      const rejected: HoldRejectedData = { ...holdRejected, holdId: NEW_HOLD_ID };
      events.push(...deliver(decidePaymentProcess({ type: 'HoldRejected', data: rejected }, stateAfter(events), context), events));

      expect(stateAfter(events)).toEqual({ status: 'declined', payment, stage: 'funds', reasonCode: 'insufficient_funds' });
      expect(decidePaymentProcess(last(events), stateAfter(events), context)).toEqual([]);
    });

    it('risk review parks the payment and the process manager sends nothing further', () => {
      const events: PaymentEvent[] = [requested];
      events.push(...deliver(decidePaymentProcess(riskAssessed('review', 60, ['velocity_payer_1m']), stateAfter(events), context), events));
      expect(stateAfter(events)).toEqual({ status: 'in_review', payment, riskScore: 60 });
      expect(decidePaymentProcess(last(events), stateAfter(events), context)).toEqual([]);
    });

    it('a redelivered HoldPlaced after authorization is refused by the aggregate, not applied twice', () => {
      const events: PaymentEvent[] = [requested, authorizationStarted, authorized];
      expect(() => deliver(decidePaymentProcess({ type: 'HoldPlaced', data: holdPlaced }, stateAfter(events), context), events))
        .toThrow("cannot record hold placed a payment in status 'authorized'");
    });
  });
});
