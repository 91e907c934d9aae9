// Proves the payment process manager: for every input in every state, which commands and timers it
// sends (or [] where it ignores one), including the timeouts of each wait and the compensations; and
// that its commands drive the Payment aggregate through a sale, an authorize-then-capture with refunds,
// a void, an expiry and the funds decline.
import type {
  CaptureRejectedData, HoldCapturedData, HoldExpiredData, HoldPlacedData, HoldRejectedData, PaymentRequestedData, PaymentWait,
  RiskAssessedData, WireBalances, WireMoney,
} from '@clearline/contracts';
import {
  decidePayment, evolvePayment, initialPaymentState, refundTransferId, type PaymentCommand, type PaymentEvent, type PaymentState,
} from './payment.js';
import {
  decidePaymentProcess, DEFAULT_PAYMENT_TIMEOUTS, type ProcessContext, type ProcessInput, type ProcessOutput,
} from './payment-process.js';

const PAYMENT_ID = '5b0c6f0e-8d1a-5e2b-9c3d-4e5f6a7b8c9d';
const HOLD_ID = '0f1e2d3c-4b5a-5968-8776-655443322110';
const OTHER_HOLD_ID = 'a1b2c3d4-e5f6-5a7b-8c9d-e0f1a2b3c4d5';
const NEW_HOLD_ID = 'c0ffee00-1234-5678-9abc-def012345678';
const REFUND_ID = '7d3a9c52-1b4e-4f8a-9c6d-2e5f8a1b3c4d';
const REQUESTED_AT = '2025-03-01T09:00:00Z';
const NOW = '2025-03-01T09:00:02.500Z';
const EXPIRES_AT = '2025-03-01T09:01:01.000Z';
const context: ProcessContext = { newHoldId: NEW_HOLD_ID, now: NOW, timeouts: DEFAULT_PAYMENT_TIMEOUTS };
const in5s = '2025-03-01T09:00:07.500Z';
const in30s = '2025-03-01T09:00:32.500Z';
const in24h = '2025-03-02T09:00:02.500Z';

const eur = (amountMinor: string): WireMoney => ({ amountMinor, currency: 'EUR' });
const amount = eur('2500');
const sale: PaymentRequestedData = {
  paymentId: PAYMENT_ID, channel: 'e_wallet', merchantId: 'merchant-1', merchantAccountId: 'merchant-account-1',
  payerAccountId: 'wallet-1', amount, method: 'wallet', requestedAt: REQUESTED_AT,
};
const manual: PaymentRequestedData = { ...sale, captureMode: 'manual', authorizationTtlMs: 60_000 };
const anyBalances: WireBalances = { currency: 'EUR', postedMinor: '10000', pendingMinor: '2500', availableMinor: '7500' };
const transferId = refundTransferId(PAYMENT_ID, REFUND_ID);

// The payment's own events.
const requestedSale: PaymentEvent = { type: 'PaymentRequested', data: sale };
const requestedManual: PaymentEvent = { type: 'PaymentRequested', data: manual };
const inReview: PaymentEvent = { type: 'PaymentInReview', data: { paymentId: PAYMENT_ID, riskScore: 60, reasons: ['velocity_payer_1m'], timeoutOutcome: 'decline' } };
const authorizationStarted: PaymentEvent = { type: 'PaymentAuthorizationStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, riskScore: 10, expiresAt: EXPIRES_AT } };
const authorized: PaymentEvent = { type: 'PaymentAuthorized', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount } };
const captureStarted: PaymentEvent = { type: 'PaymentCaptureStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount: eur('1500'), commandId: 'capture-1', fingerprint: 'f' } };
const captured: PaymentEvent = { type: 'PaymentCaptured', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount: eur('1500'), authorizedAmount: amount } };
const voidStarted: PaymentEvent = { type: 'PaymentVoidStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, commandId: 'void-1', fingerprint: 'f' } };
const refundStarted: PaymentEvent = {
  type: 'PaymentRefundStarted', data: { paymentId: PAYMENT_ID, refundId: REFUND_ID, amount: eur('800'), transferId, commandId: 'refund-1', fingerprint: 'f' },
};
const failed: PaymentEvent = { type: 'PaymentFailed', data: { paymentId: PAYMENT_ID, reasonCode: 'ledger_timeout' } };
const expired: PaymentEvent = { type: 'PaymentExpired', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, reasonCode: 'authorization_expired' } };

// What risk and the ledger publish.
const riskAssessed = (decision: RiskAssessedData['decision'], score: number, reasons: string[]): ProcessInput => ({
  type: 'RiskAssessed', data: { paymentId: PAYMENT_ID, payerAccountId: 'wallet-1', score, decision, reasons, ruleSetVersion: 'skeleton-1' },
});
const holdPlaced = (holdId = HOLD_ID): ProcessInput => ({ type: 'HoldPlaced', data: { holdId, accountId: 'wallet-1', amount, paymentId: PAYMENT_ID, balances: anyBalances } satisfies HoldPlacedData });
const holdRejected = (holdId = HOLD_ID): ProcessInput => ({ type: 'HoldRejected', data: { holdId, accountId: 'wallet-1', amount, paymentId: PAYMENT_ID, reasonCode: 'insufficient_funds' } satisfies HoldRejectedData });
const holdCaptured = (holdId = HOLD_ID, capturedAmount = eur('1500')): ProcessInput => ({
  type: 'HoldCaptured',
  data: { holdId, accountId: 'wallet-1', creditAccountId: 'merchant-account-1', amount: capturedAmount, paymentId: PAYMENT_ID, debitBalances: anyBalances, creditBalances: anyBalances } satisfies HoldCapturedData,
});
const captureRejected = (reasonCode: CaptureRejectedData['reasonCode'] = 'account_frozen'): ProcessInput => ({
  type: 'CaptureRejected', data: { holdId: HOLD_ID, accountId: 'wallet-1', creditAccountId: 'merchant-account-1', amount: eur('1500'), paymentId: PAYMENT_ID, reasonCode },
});
const holdVoided = (holdId = HOLD_ID): ProcessInput => ({ type: 'HoldVoided', data: { holdId, accountId: 'wallet-1' } });
const holdExpired = (holdId = HOLD_ID): ProcessInput => ({
  type: 'HoldExpired', data: { holdId, accountId: 'wallet-1', releasedAmountMinor: '2500', balances: anyBalances, expiresAt: EXPIRES_AT } satisfies HoldExpiredData,
});
const transferReversed = (id = transferId): ProcessInput => ({
  type: 'TransferReversed', data: { transferId: id, originalTransferId: HOLD_ID, amount: eur('800'), debitAccountId: 'merchant-account-1', creditAccountId: 'wallet-1', balancesAfter: {} },
});
const reversalRejected = (id = transferId): ProcessInput => ({
  type: 'TransferReversalRejected', data: { transferId: id, originalTransferId: HOLD_ID, amount: eur('800'), reasonCode: 'insufficient_funds', balancesAfter: {} },
});
const timeout = (wait: PaymentWait, deadlineId: string, attempt = 1): ProcessInput => ({ type: 'PaymentTimeoutElapsed', data: { wait, deadlineId, attempt } });

// Outputs.
const toPayment = (command: PaymentCommand): ProcessOutput => ({ target: 'payment', command } as ProcessOutput);
const schedule = (wait: PaymentWait, deadlineId: string, dueAt: string, attempt = 1): ProcessOutput =>
  ({ target: 'timer', command: { type: 'ScheduleTimeout', data: { wait, deadlineId, attempt, dueAt } } });
const cancel = (deadlineId: string): ProcessOutput => ({ target: 'timer', command: { type: 'CancelTimeout', data: { deadlineId } } });
const placeHold: ProcessOutput = { target: 'ledger', command: { type: 'PlaceHold', data: { holdId: HOLD_ID, accountId: 'wallet-1', amount, paymentId: PAYMENT_ID, expiresAt: EXPIRES_AT } } };
const captureHold = (amountMinor: string): ProcessOutput => ({
  target: 'ledger', command: { type: 'CaptureHold', data: { holdId: HOLD_ID, accountId: 'wallet-1', creditAccountId: 'merchant-account-1', amount: eur(amountMinor), paymentId: PAYMENT_ID } },
});
const voidHold: ProcessOutput = { target: 'ledger', command: { type: 'VoidHold', data: { holdId: HOLD_ID, accountId: 'wallet-1' } } };
const reverse: ProcessOutput = { target: 'ledger', command: { type: 'ReverseTransfer', data: { transferId, originalTransferId: HOLD_ID, amount: eur('800') } } };

function stateAfter(events: PaymentEvent[]): PaymentState {
  return events.reduce(evolvePayment, initialPaymentState());
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

const saleAuthorizing = [requestedSale, authorizationStarted];
const manualAuthorized = [requestedManual, authorizationStarted, authorized];
const manualCapturing = [...manualAuthorized, captureStarted];
const manualCaptured = [...manualCapturing, captured];
const refunding = [...manualCaptured, refundStarted];

describe('payment process', () => {
  describe('when requested', () => {
    const history = [requestedSale];

    it('PaymentRequested -> the risk timer (5 s)', () => {
      given(history).when(requestedSale).then([schedule('risk', 'risk', in5s)]);
    });

    it.each([
      ['approve', 10, []],
      ['review', 60, ['velocity_payer_1m']],
      ['decline', 90, ['velocity_payer_1m', 'amount_above_limit']],
    ] as const)('RiskAssessed(%s) -> ApplyRiskAssessment with the score, reasons, a new hold id and the time', (decision, score, reasons) => {
      given(history).when(riskAssessed(decision, score, [...reasons])).then([toPayment({
        type: 'ApplyRiskAssessment', data: { score, decision, reasons: [...reasons], holdId: NEW_HOLD_ID }, now: NOW,
      })]);
    });

    it("RiskAssessed(review) passes on the merchant's review timeout outcome", () => {
      const input: ProcessInput = { type: 'RiskAssessed', data: { paymentId: PAYMENT_ID, payerAccountId: 'wallet-1', score: 60, decision: 'review', reasons: [], ruleSetVersion: 'skeleton-1', reviewTimeoutOutcome: 'approve' } };
      given(history).when(input).then([toPayment({
        type: 'ApplyRiskAssessment', data: { score: 60, decision: 'review', reasons: [], holdId: NEW_HOLD_ID, reviewTimeoutOutcome: 'approve' }, now: NOW,
      })]);
    });

    it('the risk timeout -> TimeOutRiskAssessment', () => {
      given(history).when(timeout('risk', 'risk')).then([toPayment({ type: 'TimeOutRiskAssessment', data: {} })]);
    });
  });

  describe('when in review', () => {
    const history = [requestedSale, inReview];

    it('PaymentInReview -> stop the risk timer, start the review timer (24 h)', () => {
      given(history).when(inReview).then([cancel('risk'), schedule('review', 'review', in24h)]);
    });

    it('the review timeout -> TimeOutReview', () => {
      given(history).when(timeout('review', 'review')).then([toPayment({ type: 'TimeOutReview', data: { holdId: NEW_HOLD_ID }, now: NOW })]);
    });

    it('a late RiskAssessed -> []', () => {
      given(history).when(riskAssessed('approve', 1, [])).then([]);
    });

    it('a late risk timeout -> []', () => {
      given(history).when(timeout('risk', 'risk')).then([]);
    });
  });

  describe('when authorizing', () => {
    it('PaymentAuthorizationStarted -> stop the risk and review timers, PlaceHold with the expiry, and the ledger timer (30 s)', () => {
      given(saleAuthorizing).when(authorizationStarted).then([cancel('risk'), cancel('review'), placeHold, schedule('ledger', 'ledger:hold', in30s)]);
    });

    it('HoldPlaced -> RecordHoldPlaced', () => {
      given(saleAuthorizing).when(holdPlaced()).then([toPayment({ type: 'RecordHoldPlaced', data: { holdId: HOLD_ID } })]);
    });

    it('HoldRejected -> RecordHoldRejected with the ledger reason (compensation: nothing is held)', () => {
      given(saleAuthorizing).when(holdRejected()).then([toPayment({ type: 'RecordHoldRejected', data: { holdId: HOLD_ID, reasonCode: 'insufficient_funds' } })]);
    });

    it('HoldPlaced or HoldRejected of another hold -> []', () => {
      given(saleAuthorizing).when(holdPlaced(OTHER_HOLD_ID)).then([]);
      given(saleAuthorizing).when(holdRejected(OTHER_HOLD_ID)).then([]);
    });

    it('the ledger timeout, first and second time -> PlaceHold again (same hold id) with the next attempt', () => {
      given(saleAuthorizing).when(timeout('ledger', 'ledger:hold', 1)).then([placeHold, schedule('ledger', 'ledger:hold', in30s, 2)]);
      given(saleAuthorizing).when(timeout('ledger', 'ledger:hold', 2)).then([placeHold, schedule('ledger', 'ledger:hold', in30s, 3)]);
    });

    it('the ledger timeout after the third send -> TimeOutHold', () => {
      given(saleAuthorizing).when(timeout('ledger', 'ledger:hold', 3)).then([toPayment({ type: 'TimeOutHold', data: { holdId: HOLD_ID } })]);
    });
  });

  describe('when authorized (manual capture)', () => {
    it('PaymentAuthorized -> stop the ledger timer and start the authorization timer at the hold expiry', () => {
      given(manualAuthorized).when(authorized).then([cancel('ledger:hold'), schedule('authorization', 'authorization', EXPIRES_AT)]);
    });

    it('the authorization timeout -> ExpireAuthorization', () => {
      given(manualAuthorized).when(timeout('authorization', 'authorization')).then([toPayment({ type: 'ExpireAuthorization', data: { holdId: HOLD_ID } })]);
    });

    it("HoldExpired (the ledger's own expiry) -> RecordHoldExpired", () => {
      given(manualAuthorized).when(holdExpired()).then([toPayment({ type: 'RecordHoldExpired', data: { holdId: HOLD_ID } })]);
    });

    it('a late ledger timeout of the hold -> []', () => {
      given(manualAuthorized).when(timeout('ledger', 'ledger:hold', 3)).then([]);
    });
  });

  describe('when a sale is authorized (it captures at once)', () => {
    it('PaymentAuthorized -> stop the ledger timer only (no authorization timer)', () => {
      given([...saleAuthorizing, authorized]).when(authorized).then([cancel('ledger:hold')]);
    });
  });

  describe('when capturing', () => {
    it('PaymentCaptureStarted -> CaptureHold for the amount asked, and the ledger timer', () => {
      given(manualCapturing).when(captureStarted).then([captureHold('1500'), schedule('ledger', 'ledger:capture', in30s)]);
    });

    it('HoldCaptured -> RecordHoldCaptured at the time given', () => {
      given(manualCapturing).when(holdCaptured()).then([toPayment({ type: 'RecordHoldCaptured', data: { holdId: HOLD_ID }, now: NOW })]);
    });

    it('CaptureRejected -> RecordCaptureRejected with the ledger reason', () => {
      given(manualCapturing).when(captureRejected()).then([toPayment({ type: 'RecordCaptureRejected', data: { holdId: HOLD_ID, reasonCode: 'account_frozen' } })]);
    });

    it('HoldExpired -> RecordHoldExpired', () => {
      given(manualCapturing).when(holdExpired()).then([toPayment({ type: 'RecordHoldExpired', data: { holdId: HOLD_ID } })]);
    });

    it('the ledger timeout -> CaptureHold again; after the last send -> an operator alert, never a guess about the money', () => {
      given(manualCapturing).when(timeout('ledger', 'ledger:capture', 1)).then([captureHold('1500'), schedule('ledger', 'ledger:capture', in30s, 2)]);
      given(manualCapturing).when(timeout('ledger', 'ledger:capture', 3)).then([{
        target: 'operator', alert: { reasonCode: 'ledger_timeout', detail: 'no ledger answer to CaptureHold after 3 sends (ledger:capture)' },
      }]);
    });

    it('the authorization timeout while capturing -> [] (the capture or the ledger decides)', () => {
      given(manualCapturing).when(timeout('authorization', 'authorization')).then([]);
    });
  });

  describe('when voiding', () => {
    const history = [...manualAuthorized, voidStarted];

    it('PaymentVoidStarted -> VoidHold and the ledger timer', () => {
      given(history).when(voidStarted).then([voidHold, schedule('ledger', 'ledger:void', in30s)]);
    });

    it('HoldVoided -> RecordHoldVoided', () => {
      given(history).when(holdVoided()).then([toPayment({ type: 'RecordHoldVoided', data: { holdId: HOLD_ID } })]);
    });

    it('the ledger timeout -> VoidHold again', () => {
      given(history).when(timeout('ledger', 'ledger:void', 2)).then([voidHold, schedule('ledger', 'ledger:void', in30s, 3)]);
    });
  });

  describe('when captured', () => {
    it('PaymentCaptured -> stop the capture and authorization timers', () => {
      given(manualCaptured).when(captured).then([cancel('ledger:capture'), cancel('authorization')]);
    });

    it('a HoldCaptured repeated -> [] (no second capture recorded)', () => {
      given(manualCaptured).when(holdCaptured()).then([]);
    });

    it('PaymentRefundStarted -> ReverseTransfer of the captured hold for the refund, and its ledger timer', () => {
      given(refunding).when(refundStarted).then([reverse, schedule('ledger', `ledger:refund:${REFUND_ID}`, in30s)]);
    });
  });

  describe('when refunding', () => {
    it('TransferReversed of the pending refund -> RecordRefundPosted', () => {
      given(refunding).when(transferReversed()).then([toPayment({ type: 'RecordRefundPosted', data: { transferId } })]);
    });

    it('TransferReversalRejected of the pending refund -> RecordRefundRejected', () => {
      given(refunding).when(reversalRejected()).then([toPayment({ type: 'RecordRefundRejected', data: { transferId, reasonCode: 'insufficient_funds' } })]);
    });

    it('a reversal nobody here asked for -> []', () => {
      given(refunding).when(transferReversed(OTHER_HOLD_ID)).then([]);
    });

    it('the ledger timeout of the refund -> ReverseTransfer again', () => {
      given(refunding).when(timeout('ledger', `ledger:refund:${REFUND_ID}`, 1)).then([reverse, schedule('ledger', `ledger:refund:${REFUND_ID}`, in30s, 2)]);
    });

    it('PaymentRefunded -> stop the refund timer', () => {
      const refunded: PaymentEvent = { type: 'PaymentRefunded', data: { paymentId: PAYMENT_ID, refundId: REFUND_ID, amount: eur('800'), refundedTotal: eur('800'), transferId } };
      given([...refunding, refunded]).when(refunded).then([cancel(`ledger:refund:${REFUND_ID}`)]);
      given([...refunding, refunded]).when(transferReversed()).then([]);
    });
  });

  describe('when the payment ended', () => {
    it('PaymentFailed with a hold -> stop the timers and release the hold (compensation)', () => {
      given([...saleAuthorizing, failed]).when(failed).then([cancel('ledger:hold'), cancel('ledger:capture'), voidHold]);
    });

    it('HoldPlaced after the payment failed -> VoidHold (compensation for a late hold)', () => {
      given([...saleAuthorizing, failed]).when(holdPlaced()).then([voidHold]);
    });

    it('PaymentExpired -> stop the timers and ask the ledger to expire the hold now', () => {
      given([...manualAuthorized, expired]).when(expired).then([
        cancel('authorization'), cancel('ledger:capture'), cancel('ledger:void'),
        { target: 'ledger', command: { type: 'ExpireHold', data: { holdId: HOLD_ID, accountId: 'wallet-1' } } },
      ]);
    });

    it('PaymentDeclined -> stop the risk, review and hold timers', () => {
      const declined: PaymentEvent = { type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'risk', reasonCode: 'risk_timeout' } };
      given([requestedSale, declined]).when(declined).then([cancel('risk'), cancel('review'), cancel('ledger:hold')]);
    });

    it('a late RiskAssessed after a risk timeout -> []', () => {
      const declined: PaymentEvent = { type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'risk', reasonCode: 'risk_timeout' } };
      given([requestedSale, declined]).when(riskAssessed('approve', 1, [])).then([]);
    });

    it('a HoldCaptured of our hold in a state that asked for none -> an operator alert', () => {
      given([...manualAuthorized, voidStarted, { type: 'PaymentVoided', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, releasedAmount: amount } }])
        .when(holdCaptured()).then([{ target: 'operator', alert: { reasonCode: 'unexpected_capture', detail: `the ledger captured hold ${HOLD_ID} of a payment in status 'voided'` } }]);
    });
  });

  describe('when initial (the payment is not known yet)', () => {
    it.each([authorizationStarted, authorized, riskAssessed('approve', 0, []), holdPlaced(), timeout('risk', 'risk')])('$type -> []', (input) => {
      given([]).when(input).then([]);
    });
  });

  describe('inputs it ignores', () => {
    const ignored: ProcessInput[] = [
      { type: 'PaymentReviewed', data: { paymentId: PAYMENT_ID, decision: 'approve', commandId: 'r', fingerprint: 'f' } },
      { type: 'PaymentSettled', data: { paymentId: PAYMENT_ID, merchantId: 'merchant-1', merchantAccountId: 'merchant-account-1', amount, settledAt: NOW } },
      { type: 'PaymentCommandRejected', data: { paymentId: PAYMENT_ID, commandId: 'x', commandType: 'VoidPayment', reasonCode: 'invalid_state', status: 'captured', detail: 'no' } },
    ];

    it.each(ignored)('$type -> []', (input) => {
      given(manualCaptured).when(input).then([]);
    });
  });
});

describe('the process manager and the Payment aggregate together', () => {
  const ledger: ProcessOutput[] = [];
  /**
   * Runs an input through the process and every payment command it sends through the aggregate,
   * letting the process react to each new event, as apps/payments does. Returns the ledger commands.
   */
  function run(events: PaymentEvent[], input: ProcessInput | PaymentCommand): ProcessOutput[] {
    const outputs: ProcessOutput[] = [];
    const queue: PaymentCommand[] = [];
    if (!isProcessInput(input)) queue.push(input);
    else outputs.push(...decidePaymentProcess(input, stateAfter(events), context));
    for (;;) {
      for (const output of outputs.splice(0)) {
        if (output.target === 'payment') queue.push(output.command);
        else if (output.target === 'ledger') ledger.push(output);
      }
      const command = queue.shift();
      if (!command) return ledger.splice(0);
      for (const event of decidePayment(command, stateAfter(events))) {
        events.push(event);
        outputs.push(...decidePaymentProcess(event, stateAfter(events), context));
      }
    }
  }
  const PROCESS_INPUTS = new Set(['RiskAssessed', 'HoldPlaced', 'HoldRejected', 'HoldCaptured', 'CaptureRejected', 'HoldVoided', 'HoldExpired', 'TransferReversed', 'TransferReversalRejected', 'PaymentTimeoutElapsed']);
  function isProcessInput(input: ProcessInput | PaymentCommand): input is ProcessInput {
    return PROCESS_INPUTS.has(input.type);
  }
  const ledgerTypes = (outputs: ProcessOutput[]) => outputs.map((output) => (output.target === 'ledger' ? output.command.type : output.target));

  it('sale: request, approve, hold, capture at once (settled later, in a batch)', () => {
    const events: PaymentEvent[] = [];
    run(events, { type: 'RequestPayment', data: sale, now: REQUESTED_AT });
    expect(ledgerTypes(run(events, riskAssessed('approve', 10, [])))).toEqual(['PlaceHold']);
    const held = { type: 'HoldPlaced', data: { holdId: NEW_HOLD_ID, accountId: 'wallet-1', amount, paymentId: PAYMENT_ID, balances: anyBalances } } as const;
    const sent = run(events, held);
    expect(sent).toEqual([{ target: 'ledger', command: { type: 'CaptureHold', data: expect.objectContaining({ holdId: NEW_HOLD_ID, amount }) } }]);
    run(events, holdCaptured(NEW_HOLD_ID, amount));
    expect(events.map((event) => event.type)).toEqual([
      'PaymentRequested', 'PaymentAuthorizationStarted', 'PaymentAuthorized', 'PaymentCaptureStarted', 'PaymentCaptured',
    ]);
    expect(stateAfter(events)).toMatchObject({ status: 'captured', capturedMinor: 2500n, settled: false });
  });

  it('authorize, capture part, refund twice, the third refund beyond the captured amount is refused', () => {
    const events: PaymentEvent[] = [requestedManual, authorizationStarted];
    run(events, holdPlaced());
    expect(stateAfter(events).status).toBe('authorized');
    expect(ledgerTypes(run(events, { type: 'CapturePayment', data: { commandId: 'c1', amount: eur('1500') } }))).toEqual(['CaptureHold']);
    run(events, holdCaptured());
    const second = '8e4b0d63-2c5f-4a9b-8d7e-3f6a9b2c4d5e';
    expect(ledgerTypes(run(events, { type: 'RefundPayment', data: { commandId: 'r1', refundId: REFUND_ID, amount: eur('800') } }))).toEqual(['ReverseTransfer']);
    run(events, transferReversed());
    run(events, { type: 'RefundPayment', data: { commandId: 'r2', refundId: second, amount: eur('700') } });
    run(events, { ...transferReversed(refundTransferId(PAYMENT_ID, second)) });
    expect(stateAfter(events)).toMatchObject({ status: 'refunded', capturedMinor: 1500n, refundedMinor: 1500n });
    expect(() => run(events, { type: 'RefundPayment', data: { commandId: 'r3', refundId: '9f5c1e74-3d6a-4b0c-9e8f-4a7b0c3d5e6f', amount: eur('1') } }))
      .toThrow("cannot refund a payment in status 'refunded'");
  });

  it('void: authorize, void, the ledger releases the hold', () => {
    const events: PaymentEvent[] = [...manualAuthorized];
    expect(ledgerTypes(run(events, { type: 'VoidPayment', data: { commandId: 'v1' } }))).toEqual(['VoidHold']);
    run(events, holdVoided());
    expect(stateAfter(events).status).toBe('voided');
  });

  it('expiry: the authorization timer expires the payment and asks the ledger to release the hold', () => {
    const events: PaymentEvent[] = [...manualAuthorized];
    expect(ledgerTypes(run(events, timeout('authorization', 'authorization')))).toEqual(['ExpireHold']);
    expect(stateAfter(events).status).toBe('expired');
    expect(run(events, holdExpired())).toEqual([]);
  });

  it('compensation: the ledger refuses the hold and the payment is declined for funds', () => {
    const events: PaymentEvent[] = [requestedSale];
    run(events, riskAssessed('approve', 10, []));
    run(events, { ...holdRejected(NEW_HOLD_ID) });
    expect(stateAfter(events)).toMatchObject({ status: 'declined', stage: 'funds', reasonCode: 'insufficient_funds' });
  });

  it('compensation: no ledger answer to the hold after three sends fails the payment and releases any hold', () => {
    const events: PaymentEvent[] = [...saleAuthorizing];
    expect(ledgerTypes(run(events, timeout('ledger', 'ledger:hold', 3)))).toEqual(['VoidHold']);
    expect(stateAfter(events)).toMatchObject({ status: 'failed', reasonCode: 'ledger_timeout' });
  });

  it('review approve: the analyst approves and the hold is asked for', () => {
    const events: PaymentEvent[] = [requestedSale, inReview];
    expect(ledgerTypes(run(events, { type: 'ReviewPayment', data: { commandId: 'rv1', decision: 'approve', holdId: NEW_HOLD_ID }, now: NOW }))).toEqual(['PlaceHold']);
    expect(stateAfter(events).status).toBe('authorizing');
  });
});
