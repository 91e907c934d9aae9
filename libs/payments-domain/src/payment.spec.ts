// Proves the Payment aggregate (wallet lifecycle): each command is accepted in exactly the states the
// lifecycle allows and yields the expected events, and is otherwise refused with a PaymentStateError
// that names the state and a stable reason code. Lifecycle commands are idempotent on their command id.
import { canonicalJson, deriveMessageId, type PaymentInReviewData, type PaymentRequestedData, type RequestPaymentData, type WireMoney } from '@clearline/contracts';
import {
  decidePayment, evolvePayment, initialPaymentState, PAYMENT_EVENT_TYPES, PaymentStateError, refundTransferId, REVIEW_TIMEOUT_REVIEWER, TERMINAL_STATUSES,
  type PaymentCommand, type PaymentEvent, type PaymentState, type PaymentStatus,
} from './payment.js';

const PAYMENT_ID = '5b0c6f0e-8d1a-5e2b-9c3d-4e5f6a7b8c9d';
const HOLD_ID = '0f1e2d3c-4b5a-5968-8776-655443322110';
const OTHER_HOLD_ID = 'a1b2c3d4-e5f6-5a7b-8c9d-e0f1a2b3c4d5';
const REFUND_ID = '7d3a9c52-1b4e-4f8a-9c6d-2e5f8a1b3c4d';
const SECOND_REFUND_ID = '8e4b0d63-2c5f-4a9b-8d7e-3f6a9b2c4d5e';
const REQUESTED_AT = '2025-03-01T09:00:00Z';
const APPROVED_AT = '2025-03-01T09:00:01.000Z';
const EXPIRES_AT = '2025-03-01T09:01:01.000Z';
const CAPTURED_AT = '2025-03-01T09:00:02.500Z';

const eur = (amountMinor: string): WireMoney => ({ amountMinor, currency: 'EUR' });

const saleRequest: RequestPaymentData = {
  paymentId: PAYMENT_ID, channel: 'e_wallet', merchantId: 'merchant-1', merchantAccountId: 'merchant-account-1',
  payerAccountId: 'wallet-1', amount: eur('2500'), method: 'wallet', description: 'Order 42',
};
const manualRequest: RequestPaymentData = { ...saleRequest, captureMode: 'manual', authorizationTtlMs: 60_000 };
const sale: PaymentRequestedData = { ...saleRequest, requestedAt: REQUESTED_AT };
const manual: PaymentRequestedData = { ...manualRequest, requestedAt: REQUESTED_AT };

const fingerprints = {
  capture: (amount?: WireMoney) => canonicalJson({ type: 'CapturePayment', amount }),
  void: canonicalJson({ type: 'VoidPayment' }),
  refund: (refundId: string, amount: WireMoney) => canonicalJson({ type: 'RefundPayment', refundId, amount }),
  review: (decision: string) => canonicalJson({ type: 'ReviewPayment', decision, reviewerId: 'analyst-7' }),
};

// Events.
const requestedSale: PaymentEvent = { type: 'PaymentRequested', data: sale };
const requestedManual: PaymentEvent = { type: 'PaymentRequested', data: manual };
const authorizationStarted: PaymentEvent = { type: 'PaymentAuthorizationStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, riskScore: 10, expiresAt: EXPIRES_AT } };
const inReview: PaymentEvent = { type: 'PaymentInReview', data: { paymentId: PAYMENT_ID, riskScore: 60, reasons: ['velocity_payer_1m'], timeoutOutcome: 'decline' } };
const declinedByRisk: PaymentEvent = { type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'risk', reasonCode: 'velocity_payer_1m' } };
const declinedForFunds: PaymentEvent = { type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'funds', reasonCode: 'insufficient_funds' } };
const authorized: PaymentEvent = { type: 'PaymentAuthorized', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount: eur('2500') } };
const saleCaptureStarted: PaymentEvent = { type: 'PaymentCaptureStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount: eur('2500') } };
const captureStarted = (amount: WireMoney, requested?: WireMoney): PaymentEvent => ({
  type: 'PaymentCaptureStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount, commandId: 'capture-1', fingerprint: fingerprints.capture(requested) },
});
const partialCaptureStarted = captureStarted(eur('1500'), eur('1500'));
const captured = (amountMinor: string): PaymentEvent => ({
  type: 'PaymentCaptured', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount: eur(amountMinor), authorizedAmount: eur('2500') },
});
const settled = (amountMinor: string): PaymentEvent => ({
  type: 'PaymentSettled',
  data: { paymentId: PAYMENT_ID, merchantId: 'merchant-1', merchantAccountId: 'merchant-account-1', amount: eur(amountMinor), settledAt: CAPTURED_AT },
});
const voidStarted: PaymentEvent = { type: 'PaymentVoidStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, commandId: 'void-1', fingerprint: fingerprints.void } };
const voided: PaymentEvent = { type: 'PaymentVoided', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, releasedAmount: eur('2500') } };
const expired: PaymentEvent = { type: 'PaymentExpired', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, reasonCode: 'authorization_expired' } };
const failedForLedger: PaymentEvent = { type: 'PaymentFailed', data: { paymentId: PAYMENT_ID, reasonCode: 'ledger_timeout' } };
const refundStarted = (refundId: string, amountMinor: string, commandId = `refund-${refundId.slice(0, 4)}`): PaymentEvent => ({
  type: 'PaymentRefundStarted',
  data: { paymentId: PAYMENT_ID, refundId, amount: eur(amountMinor), transferId: refundTransferId(PAYMENT_ID, refundId), commandId, fingerprint: fingerprints.refund(refundId, eur(amountMinor)) },
});
const refunded = (refundId: string, amountMinor: string, totalMinor: string): PaymentEvent => ({
  type: 'PaymentRefunded', data: { paymentId: PAYMENT_ID, refundId, amount: eur(amountMinor), refundedTotal: eur(totalMinor), transferId: refundTransferId(PAYMENT_ID, refundId) },
});

// Commands.
const requestPayment = (request = saleRequest): PaymentCommand => ({ type: 'RequestPayment', data: request, now: REQUESTED_AT });
const applyRisk = (decision: 'approve' | 'review' | 'decline', score: number, reasons: string[]): PaymentCommand =>
  ({ type: 'ApplyRiskAssessment', data: { score, decision, reasons, holdId: HOLD_ID }, now: APPROVED_AT });
const reviewPayment = (decision: 'approve' | 'decline', commandId = 'review-1'): PaymentCommand =>
  ({ type: 'ReviewPayment', data: { commandId, decision, reviewerId: 'analyst-7', holdId: HOLD_ID }, now: APPROVED_AT });
const capturePayment = (amount?: WireMoney, commandId = 'capture-1'): PaymentCommand =>
  ({ type: 'CapturePayment', data: { commandId, ...(amount ? { amount } : {}) } });
const voidPayment = (commandId = 'void-1'): PaymentCommand => ({ type: 'VoidPayment', data: { commandId } });
const refundPayment = (refundId: string, amountMinor: string, commandId = `refund-${refundId.slice(0, 4)}`, currency = 'EUR'): PaymentCommand =>
  ({ type: 'RefundPayment', data: { commandId, refundId, amount: { amountMinor, currency } } });
const recordHoldPlaced = (holdId = HOLD_ID): PaymentCommand => ({ type: 'RecordHoldPlaced', data: { holdId } });
const recordHoldRejected = (holdId = HOLD_ID): PaymentCommand => ({ type: 'RecordHoldRejected', data: { holdId, reasonCode: 'insufficient_funds' } });
const recordHoldCaptured = (holdId = HOLD_ID): PaymentCommand => ({ type: 'RecordHoldCaptured', data: { holdId }, now: CAPTURED_AT });
const recordCaptureRejected = (reasonCode = 'account_frozen', holdId = HOLD_ID): PaymentCommand => ({ type: 'RecordCaptureRejected', data: { holdId, reasonCode } });
const recordHoldVoided = (holdId = HOLD_ID): PaymentCommand => ({ type: 'RecordHoldVoided', data: { holdId } });
const recordHoldExpired = (holdId = HOLD_ID): PaymentCommand => ({ type: 'RecordHoldExpired', data: { holdId } });
const recordRefundPosted = (refundId = REFUND_ID): PaymentCommand => ({ type: 'RecordRefundPosted', data: { transferId: refundTransferId(PAYMENT_ID, refundId) } });
const recordRefundRejected = (refundId = REFUND_ID): PaymentCommand =>
  ({ type: 'RecordRefundRejected', data: { transferId: refundTransferId(PAYMENT_ID, refundId), reasonCode: 'insufficient_funds' } });

/** Every command once (fresh command ids), with the words its error message uses. */
const EVERY_COMMAND: [PaymentCommand, string][] = [
  [requestPayment(), 'request'],
  [applyRisk('approve', 0, []), 'apply risk assessment'],
  [reviewPayment('approve', 'review-any'), 'review'],
  [capturePayment(undefined, 'capture-any'), 'capture'],
  [voidPayment('void-any'), 'void'],
  [refundPayment('9f5c1e74-3d6a-4b0c-9e8f-4a7b0c3d5e6f', '1', 'refund-any'), 'refund'],
  [recordHoldPlaced(), 'record hold placed'],
  [recordHoldRejected(), 'record hold rejected'],
  [recordHoldCaptured(), 'record hold captured'],
  [recordCaptureRejected(), 'record capture rejected'],
  [recordHoldVoided(), 'record hold voided'],
  [recordHoldExpired(), 'record hold expired'],
  [recordRefundPosted(), 'record refund posted'],
  [recordRefundRejected(), 'record refund rejected'],
  [{ type: 'TimeOutRiskAssessment', data: {} }, 'time out risk assessment'],
  [{ type: 'TimeOutReview', data: { holdId: HOLD_ID }, now: APPROVED_AT }, 'time out review'],
  [{ type: 'TimeOutHold', data: { holdId: HOLD_ID } }, 'time out hold'],
  [{ type: 'ExpireAuthorization', data: { holdId: HOLD_ID } }, 'expire authorization'],
];

/** The commands of EVERY_COMMAND a state refuses, for it.each. */
function refusedExcept(...accepted: PaymentCommand['type'][]): [PaymentCommand['type'], PaymentCommand, string][] {
  return EVERY_COMMAND.filter(([command]) => !accepted.includes(command.type)).map(([command, words]) => [command.type, command, words]);
}

function stateAfter(events: PaymentEvent[]): PaymentState {
  return events.reduce(evolvePayment, initialPaymentState());
}

/** given(payment events).when(command).then(events) or .thenRefused(message, reasonCode), plus the status the events lead to. */
function given(history: PaymentEvent[]) {
  const state = stateAfter(history);
  return {
    when: (command: PaymentCommand) => ({
      then: (expected: PaymentEvent[]) => {
        const events = decidePayment(command, state);
        expect(events).toEqual(expected);
        return { andStatusIs: (status: PaymentStatus) => expect(events.reduce(evolvePayment, state).status).toBe(status) };
      },
      thenRefused: (message: string, reasonCode = state.status === 'initial' ? 'payment_not_found' : 'invalid_state') => {
        let error: unknown;
        try {
          decidePayment(command, state);
        } catch (caught) {
          error = caught;
        }
        expect({ refused: error instanceof PaymentStateError, command: command.type }).toEqual({ refused: true, command: command.type });
        expect(error).toMatchObject({ name: 'PaymentStateError', command: command.type, status: state.status, reasonCode });
        expect((error as Error).message).toContain(message);
      },
    }),
  };
}

const saleAuthorizing = [requestedSale, authorizationStarted];
const manualAuthorized = [requestedManual, authorizationStarted, authorized];
const manualCaptured = [...manualAuthorized, partialCaptureStarted, captured('1500')];

describe('Payment', () => {
  it('lists every payment event type', () => {
    expect(PAYMENT_EVENT_TYPES.size).toBe(19);
    expect(PAYMENT_EVENT_TYPES.has('PaymentRefunded')).toBe(true);
  });

  describe('when initial', () => {
    it('starts initial', () => {
      expect(initialPaymentState()).toEqual({ status: 'initial' });
    });

    it('RequestPayment records the request with the time it was accepted', () => {
      given([]).when(requestPayment()).then([requestedSale]).andStatusIs('requested');
    });

    it.each(refusedExcept('RequestPayment'))('%s is refused (payment_not_found)', (_type, command, words) => {
      given([]).when(command).thenRefused(`cannot ${words} a payment in status 'initial'`, 'payment_not_found');
    });
  });

  describe('when requested', () => {
    const history = [requestedSale];

    it('is requested with the payment and no commands yet', () => {
      expect(stateAfter(history)).toEqual({ status: 'requested', payment: sale, commands: {} });
    });

    it('ApplyRiskAssessment(approve) starts authorization with the new hold id, the score and the default 7-day expiry', () => {
      given(history).when(applyRisk('approve', 10, [])).then([{
        type: 'PaymentAuthorizationStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, riskScore: 10, expiresAt: '2025-03-08T09:00:01.000Z' },
      }]).andStatusIs('authorizing');
    });

    it("ApplyRiskAssessment(approve) takes the request's own authorization lifetime", () => {
      given([requestedManual]).when(applyRisk('approve', 10, [])).then([authorizationStarted]);
    });

    it('ApplyRiskAssessment(review) parks the payment with the score and reasons', () => {
      given(history).when(applyRisk('review', 60, ['velocity_payer_1m'])).then([inReview]).andStatusIs('in_review');
    });

    it("ApplyRiskAssessment(review) records the merchant's review timeout outcome", () => {
      const command: PaymentCommand = { type: 'ApplyRiskAssessment', data: { score: 60, decision: 'review', reasons: ['velocity_payer_1m'], holdId: HOLD_ID, reviewTimeoutOutcome: 'approve' }, now: APPROVED_AT };
      given(history).when(command).then([{ ...inReview, data: { ...inReview.data, timeoutOutcome: 'approve' } }]);
    });

    it('ApplyRiskAssessment(decline) declines at the risk stage with the weightiest reason', () => {
      given(history).when(applyRisk('decline', 90, ['velocity_payer_1m', 'amount_above_limit'])).then([declinedByRisk]).andStatusIs('declined');
    });

    it('ApplyRiskAssessment(decline) without reasons declines with risk_declined', () => {
      given(history).when(applyRisk('decline', 100, []))
        .then([{ type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'risk', reasonCode: 'risk_declined' } }]);
    });

    it('TimeOutRiskAssessment declines at the risk stage with risk_timeout', () => {
      given(history).when({ type: 'TimeOutRiskAssessment', data: {} })
        .then([{ type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'risk', reasonCode: 'risk_timeout' } }]).andStatusIs('declined');
    });

    it.each(refusedExcept('ApplyRiskAssessment', 'TimeOutRiskAssessment'))('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'requested'`);
    });
  });

  describe('when in review', () => {
    const history = [requestedManual, inReview];
    const reviewed = (decision: 'approve' | 'decline'): PaymentEvent => ({
      type: 'PaymentReviewed', data: { paymentId: PAYMENT_ID, decision, reviewerId: 'analyst-7', commandId: 'review-1', fingerprint: fingerprints.review(decision) },
    });

    it('is in review with the score', () => {
      expect(stateAfter(history)).toMatchObject({ status: 'in_review', riskScore: 60 });
    });

    it("ReviewPayment(approve) records the analyst's decision and starts authorization with the risk score", () => {
      given(history).when(reviewPayment('approve')).then([reviewed('approve'), { ...authorizationStarted, data: { ...authorizationStarted.data, riskScore: 60 } }])
        .andStatusIs('authorizing');
    });

    it('ReviewPayment(decline) declines at the review stage with review_declined', () => {
      given(history).when(reviewPayment('decline'))
        .then([reviewed('decline'), { type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'review', reasonCode: 'review_declined' } }])
        .andStatusIs('declined');
    });

    it('TimeOutReview declines at the review stage with review_timeout', () => {
      given(history).when({ type: 'TimeOutReview', data: { holdId: HOLD_ID }, now: APPROVED_AT })
        .then([{ type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'review', reasonCode: 'review_timeout' } }]).andStatusIs('declined');
    });

    it('TimeOutReview of a review stored before the outcome was recorded declines, as it always did', () => {
      const { timeoutOutcome: _recordedLater, ...olderData } = inReview.data as PaymentInReviewData;
      given([requestedSale, { type: 'PaymentInReview', data: olderData }]).when({ type: 'TimeOutReview', data: { holdId: HOLD_ID }, now: APPROVED_AT })
        .then([{ type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'review', reasonCode: 'review_timeout' } }]);
    });

    it('TimeOutReview with an approve outcome records a review by review_timeout and starts authorization with the risk score', () => {
      const approveOnTimeout: PaymentEvent = { ...inReview, data: { ...inReview.data, timeoutOutcome: 'approve' } };
      const fingerprint = canonicalJson({ type: 'ReviewPayment', decision: 'approve', reviewerId: REVIEW_TIMEOUT_REVIEWER });
      given([requestedSale, approveOnTimeout]).when({ type: 'TimeOutReview', data: { holdId: HOLD_ID }, now: APPROVED_AT })
        .then([
          { type: 'PaymentReviewed', data: { paymentId: PAYMENT_ID, decision: 'approve', reviewerId: REVIEW_TIMEOUT_REVIEWER, commandId: deriveMessageId(PAYMENT_ID, 'review-timeout'), fingerprint } },
          { type: 'PaymentAuthorizationStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, riskScore: 60, expiresAt: '2025-03-08T09:00:01.000Z' } },
        ]).andStatusIs('authorizing');
    });

    it('the same ReviewPayment again, after it was applied, is a no-op', () => {
      given([...history, reviewed('approve'), authorizationStarted]).when(reviewPayment('approve')).then([]);
    });

    it('the same command id with the other decision is refused (duplicate_command_different_body)', () => {
      given([...history, reviewed('approve'), authorizationStarted]).when(reviewPayment('decline'))
        .thenRefused("cannot review a payment in status 'authorizing' (command id review-1 was used for another request)", 'duplicate_command_different_body');
    });

    it.each(refusedExcept('ReviewPayment', 'TimeOutReview'))('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'in_review'`);
    });
  });

  describe('when authorizing', () => {
    it('is authorizing with the hold id, the score and the expiry', () => {
      expect(stateAfter(saleAuthorizing)).toEqual({ status: 'authorizing', payment: sale, commands: {}, holdId: HOLD_ID, riskScore: 10, expiresAt: EXPIRES_AT });
    });

    it('RecordHoldPlaced of a sale authorizes and starts capturing the whole amount at once', () => {
      given(saleAuthorizing).when(recordHoldPlaced()).then([authorized, saleCaptureStarted]).andStatusIs('capturing');
    });

    it('RecordHoldPlaced of a manual-capture payment authorizes and waits', () => {
      given([requestedManual, authorizationStarted]).when(recordHoldPlaced()).then([authorized]).andStatusIs('authorized');
    });

    it('RecordHoldRejected declines the payment at the funds stage with the ledger reason', () => {
      given(saleAuthorizing).when(recordHoldRejected()).then([declinedForFunds]).andStatusIs('declined');
    });

    it('TimeOutHold fails the payment with ledger_timeout and keeps the hold id (the process releases a late hold)', () => {
      given(saleAuthorizing).when({ type: 'TimeOutHold', data: { holdId: HOLD_ID } }).then([failedForLedger]).andStatusIs('failed');
      expect(stateAfter([...saleAuthorizing, failedForLedger])).toMatchObject({ status: 'failed', reasonCode: 'ledger_timeout', holdId: HOLD_ID });
    });

    it.each([
      ['RecordHoldPlaced', recordHoldPlaced(OTHER_HOLD_ID), 'record hold placed'],
      ['RecordHoldRejected', recordHoldRejected(OTHER_HOLD_ID), 'record hold rejected'],
    ] as const)('%s for another hold is refused', (_type, command, words) => {
      given(saleAuthorizing).when(command).thenRefused(`cannot ${words} a payment in status 'authorizing' (hold ${OTHER_HOLD_ID} is not this payment's hold ${HOLD_ID})`);
    });

    it.each(refusedExcept('RecordHoldPlaced', 'RecordHoldRejected', 'TimeOutHold'))('%s is refused', (_type, command, words) => {
      given(saleAuthorizing).when(command).thenRefused(`cannot ${words} a payment in status 'authorizing'`);
    });
  });

  describe('when authorized (manual capture)', () => {
    it('is authorized for the amount, with the hold and its expiry', () => {
      expect(stateAfter(manualAuthorized)).toEqual({
        status: 'authorized', payment: manual, commands: {}, holdId: HOLD_ID, authorizedMinor: 2500n, expiresAt: EXPIRES_AT,
      });
    });

    it('CapturePayment without an amount captures the whole authorization', () => {
      given(manualAuthorized).when(capturePayment()).then([captureStarted(eur('2500'))]).andStatusIs('capturing');
    });

    it('CapturePayment of part of the authorization captures that part', () => {
      given(manualAuthorized).when(capturePayment(eur('1500'))).then([partialCaptureStarted]).andStatusIs('capturing');
    });

    it('CapturePayment of more than authorized is refused (amount_exceeds_authorized)', () => {
      given(manualAuthorized).when(capturePayment(eur('2501')))
        .thenRefused("cannot capture a payment in status 'authorized' (amount 2501 exceeds the authorized 2500)", 'amount_exceeds_authorized');
    });

    it('CapturePayment in another currency is refused (currency_mismatch)', () => {
      given(manualAuthorized).when(capturePayment({ amountMinor: '100', currency: 'USD' }))
        .thenRefused("cannot capture a payment in status 'authorized' (currency USD is not the payment's EUR)", 'currency_mismatch');
    });

    it('CapturePayment of a sale is refused (capture_mode_automatic)', () => {
      given([requestedSale, authorizationStarted, authorized]).when(capturePayment())
        .thenRefused("cannot capture a payment in status 'authorized' (a sale is captured automatically)", 'capture_mode_automatic');
    });

    it('VoidPayment starts releasing the hold', () => {
      given(manualAuthorized).when(voidPayment()).then([voidStarted]).andStatusIs('voiding');
    });

    it('ExpireAuthorization (our timer) expires the payment', () => {
      given(manualAuthorized).when({ type: 'ExpireAuthorization', data: { holdId: HOLD_ID } }).then([expired]).andStatusIs('expired');
    });

    it("RecordHoldExpired (the ledger's expiry) expires the payment", () => {
      given(manualAuthorized).when(recordHoldExpired()).then([expired]).andStatusIs('expired');
    });

    it('RecordHoldExpired for another hold is refused', () => {
      given(manualAuthorized).when(recordHoldExpired(OTHER_HOLD_ID)).thenRefused(`hold ${OTHER_HOLD_ID} is not this payment's hold ${HOLD_ID}`);
    });

    it.each(refusedExcept('CapturePayment', 'VoidPayment', 'ExpireAuthorization', 'RecordHoldExpired'))('%s is refused', (_type, command, words) => {
      given(manualAuthorized).when(command).thenRefused(`cannot ${words} a payment in status 'authorized'`);
    });
  });

  describe('when capturing', () => {
    const history = [...manualAuthorized, partialCaptureStarted];

    it('is capturing the amount asked, remembering the command', () => {
      expect(stateAfter(history)).toMatchObject({
        status: 'capturing', authorizedMinor: 2500n, capture: { amountMinor: 1500n, commandId: 'capture-1' }, commands: { 'capture-1': fingerprints.capture(eur('1500')) },
      });
    });

    it('RecordHoldCaptured captures the amount asked (the rest of the hold is released) and settles it at once', () => {
      given(history).when(recordHoldCaptured()).then([captured('1500')]).andStatusIs('captured');
    });

    it('RecordCaptureRejected of a manual capture tells the caller why and gives the payment back its authorization', () => {
      given(history).when(recordCaptureRejected('account_frozen')).then([{
        type: 'PaymentCommandRejected',
        data: { paymentId: PAYMENT_ID, commandId: 'capture-1', commandType: 'CapturePayment', reasonCode: 'account_frozen', status: 'capturing', detail: 'the ledger refused the capture: account_frozen' },
      }]).andStatusIs('authorized');
    });

    it('RecordCaptureRejected of a sale fails the payment with the ledger reason, keeping the hold to release', () => {
      const saleCapturing = [...saleAuthorizing, authorized, saleCaptureStarted];
      given(saleCapturing).when(recordCaptureRejected('account_closed'))
        .then([{ type: 'PaymentFailed', data: { paymentId: PAYMENT_ID, reasonCode: 'account_closed' } }]).andStatusIs('failed');
    });

    it('RecordCaptureRejected with hold_expired expires the payment', () => {
      given(history).when(recordCaptureRejected('hold_expired')).then([expired]).andStatusIs('expired');
    });

    it("RecordHoldExpired (the ledger's expiry won the race) expires the payment", () => {
      given(history).when(recordHoldExpired()).then([expired]).andStatusIs('expired');
    });

    it('the same CapturePayment again is a no-op', () => {
      given(history).when(capturePayment(eur('1500'))).then([]);
    });

    it('the same command id with another amount is refused (duplicate_command_different_body)', () => {
      given(history).when(capturePayment(eur('1000'))).thenRefused('command id capture-1 was used for another request', 'duplicate_command_different_body');
    });

    it("that refusal, once recorded, leaves the capture in flight: the ledger's answer still captures the payment", () => {
      const refusedRepeat: PaymentEvent = {
        type: 'PaymentCommandRejected',
        data: { paymentId: PAYMENT_ID, commandId: 'capture-1', commandType: 'CapturePayment', reasonCode: 'duplicate_command_different_body', status: 'capturing', detail: 'command id capture-1 was used for another request' },
      };
      expect(stateAfter([...history, refusedRepeat])).toMatchObject({ status: 'capturing', capture: { amountMinor: 1500n, commandId: 'capture-1' } });
      given([...history, refusedRepeat]).when(recordHoldCaptured()).then([captured('1500')]).andStatusIs('captured');
    });

    it.each(refusedExcept('RecordHoldCaptured', 'RecordCaptureRejected', 'RecordHoldExpired'))('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'capturing'`);
    });
  });

  describe('when voiding', () => {
    const history = [...manualAuthorized, voidStarted];

    it('RecordHoldVoided voids the payment, releasing the whole authorization', () => {
      given(history).when(recordHoldVoided()).then([voided]).andStatusIs('voided');
    });

    it("RecordHoldExpired (the hold expired first) expires the payment", () => {
      given(history).when(recordHoldExpired()).then([expired]).andStatusIs('expired');
    });

    it('the same VoidPayment again is a no-op', () => {
      given(history).when(voidPayment()).then([]);
    });

    it("a capture reusing the void's command id is refused, and its recorded refusal leaves the void in flight", () => {
      given(history).when({ ...capturePayment(eur('1000')), data: { ...capturePayment(eur('1000')).data, commandId: 'void-1' } } as PaymentCommand)
        .thenRefused('command id void-1 was used for another request', 'duplicate_command_different_body');
      const refusedRepeat: PaymentEvent = {
        type: 'PaymentCommandRejected',
        data: { paymentId: PAYMENT_ID, commandId: 'void-1', commandType: 'CapturePayment', reasonCode: 'duplicate_command_different_body', status: 'voiding', detail: 'command id void-1 was used for another request' },
      };
      expect(stateAfter([...history, refusedRepeat])).toMatchObject({ status: 'voiding', voidCommandId: 'void-1' });
      given([...history, refusedRepeat]).when(recordHoldVoided()).then([voided]).andStatusIs('voided');
    });

    it.each(refusedExcept('RecordHoldVoided', 'RecordHoldExpired'))('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'voiding'`);
    });
  });

  describe('when captured', () => {
    it('is captured for the amount with nothing refunded; settlement batches settle it later, elsewhere', () => {
      expect(stateAfter(manualCaptured)).toMatchObject({
        status: 'captured', holdId: HOLD_ID, authorizedMinor: 2500n, capturedMinor: 1500n, refundedMinor: 0n, pendingRefundMinor: 0n, refunds: {}, settled: false,
      });
    });

    it('an old stream with the walking skeleton\'s PaymentSettled v1 still replays, flagged settled', () => {
      expect(stateAfter([...manualCaptured, settled('1500')])).toMatchObject({ status: 'captured', capturedMinor: 1500n, settled: true });
    });

    it('RefundPayment starts a refund with a reversal id derived from the payment and the refund', () => {
      given(manualCaptured).when(refundPayment(REFUND_ID, '800')).then([refundStarted(REFUND_ID, '800')]).andStatusIs('refunding');
    });

    it('RefundPayment of the whole captured amount is accepted', () => {
      given(manualCaptured).when(refundPayment(REFUND_ID, '1500')).then([refundStarted(REFUND_ID, '1500')]);
    });

    it('RefundPayment beyond the captured amount is refused (amount_exceeds_refundable)', () => {
      given(manualCaptured).when(refundPayment(REFUND_ID, '1501'))
        .thenRefused("cannot refund a payment in status 'captured' (amount 1501 exceeds the refundable 1500)", 'amount_exceeds_refundable');
    });

    it('RefundPayment in another currency is refused (currency_mismatch)', () => {
      given(manualCaptured).when(refundPayment(REFUND_ID, '100', 'refund-usd', 'USD')).thenRefused("currency USD is not the payment's EUR", 'currency_mismatch');
    });

    it('the capture command again is a no-op', () => {
      given(manualCaptured).when(capturePayment(eur('1500'))).then([]);
    });

    it('a capture with another command id is refused for the state', () => {
      given(manualCaptured).when(capturePayment(eur('1500'), 'capture-2')).thenRefused("cannot capture a payment in status 'captured'");
    });

    it.each(refusedExcept('RefundPayment'))('%s is refused', (_type, command, words) => {
      given(manualCaptured).when(command).thenRefused(`cannot ${words} a payment in status 'captured'`);
    });
  });

  describe('when refunding', () => {
    const history = [...manualCaptured, refundStarted(REFUND_ID, '800')];

    it('counts the pending refund against what is refundable', () => {
      expect(stateAfter(history)).toMatchObject({ status: 'refunding', refundedMinor: 0n, pendingRefundMinor: 800n });
    });

    it('RecordRefundPosted records the refund with the running total', () => {
      given(history).when(recordRefundPosted()).then([refunded(REFUND_ID, '800', '800')]).andStatusIs('partially_refunded');
    });

    it('RecordRefundRejected records the failure; the amount becomes refundable again', () => {
      given(history).when(recordRefundRejected())
        .then([{ type: 'RefundFailed', data: { paymentId: PAYMENT_ID, refundId: REFUND_ID, amount: eur('800'), reasonCode: 'insufficient_funds' } }])
        .andStatusIs('captured');
    });

    it('a second refund up to the rest is accepted while the first is in flight', () => {
      given(history).when(refundPayment(SECOND_REFUND_ID, '700')).then([refundStarted(SECOND_REFUND_ID, '700')]).andStatusIs('refunding');
    });

    it('a second refund beyond the rest is refused (amount_exceeds_refundable)', () => {
      given(history).when(refundPayment(SECOND_REFUND_ID, '701')).thenRefused('amount 701 exceeds the refundable 700', 'amount_exceeds_refundable');
    });

    it('the same refund id under another command id, same amount, is a no-op', () => {
      given(history).when(refundPayment(REFUND_ID, '800', 'refund-again')).then([]);
    });

    it('the same refund id with another amount is refused (duplicate_command_different_body)', () => {
      given(history).when(refundPayment(REFUND_ID, '900', 'refund-again'))
        .thenRefused(`refund ${REFUND_ID} was asked for another amount`, 'duplicate_command_different_body');
    });

    it('RecordRefundPosted for a transfer no pending refund has is refused', () => {
      given(history).when(recordRefundPosted(SECOND_REFUND_ID)).thenRefused("cannot record refund posted a payment in status 'refunding' (no pending refund has transfer");
    });

    it.each(refusedExcept('RefundPayment', 'RecordRefundPosted', 'RecordRefundRejected'))('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'refunding'`);
    });
  });

  describe('when partially refunded', () => {
    const history = [...manualCaptured, refundStarted(REFUND_ID, '800'), refunded(REFUND_ID, '800', '800')];

    it('RefundPayment of the rest is accepted', () => {
      given(history).when(refundPayment(SECOND_REFUND_ID, '700')).then([refundStarted(SECOND_REFUND_ID, '700')]);
    });

    it('RefundPayment beyond the rest is refused', () => {
      given(history).when(refundPayment(SECOND_REFUND_ID, '701')).thenRefused('amount 701 exceeds the refundable 700', 'amount_exceeds_refundable');
    });

    it('a posted refund reported again is refused (it is no longer pending)', () => {
      given(history).when(recordRefundPosted()).thenRefused("cannot record refund posted a payment in status 'partially_refunded'");
    });

    it.each(refusedExcept('RefundPayment'))('%s is refused', (_type, command, words) => {
      given(history).when(command).thenRefused(`cannot ${words} a payment in status 'partially_refunded'`);
    });
  });

  describe('terminal states', () => {
    const fullyRefunded = [
      ...manualCaptured, refundStarted(REFUND_ID, '800'), refunded(REFUND_ID, '800', '800'),
      refundStarted(SECOND_REFUND_ID, '700'), refunded(SECOND_REFUND_ID, '700', '1500'),
    ];
    const cases: [PaymentStatus, PaymentEvent[]][] = [
      ['refunded', fullyRefunded],
      ['voided', [...manualAuthorized, voidStarted, voided]],
      ['expired', [...manualAuthorized, expired]],
      ['declined', [requestedSale, declinedByRisk]],
      ['declined', [...saleAuthorizing, declinedForFunds]],
      ['failed', [...saleAuthorizing, failedForLedger]],
    ];

    it.each(cases)('%s is terminal', (status) => {
      expect(TERMINAL_STATUSES.has(status)).toBe(true);
    });

    it.each(cases)('in %s every command is refused', (status, history) => {
      expect(stateAfter(history).status).toBe(status);
      for (const [, command, words] of refusedExcept()) given(history).when(command).thenRefused(`cannot ${words} a payment in status '${status}'`);
    });

    it('a voided payment answers its void command again with a no-op', () => {
      given([...manualAuthorized, voidStarted, voided]).when(voidPayment()).then([]);
    });

    it('a fully refunded payment answers a refund it already made with a no-op', () => {
      given(fullyRefunded).when(refundPayment(REFUND_ID, '800')).then([]);
    });

    it('declined for funds keeps the stage and reason', () => {
      expect(stateAfter([...saleAuthorizing, declinedForFunds])).toMatchObject({ status: 'declined', stage: 'funds', reasonCode: 'insufficient_funds' });
    });
  });

  describe('evolve', () => {
    it('ignores events before the payment exists and never throws on an out-of-order event', () => {
      expect(stateAfter([authorized])).toEqual({ status: 'initial' });
      expect(() => stateAfter([requestedSale, captured('2500'), refunded(REFUND_ID, '1', '1'), voided, settled('1')])).not.toThrow();
    });

    it('a PaymentCommandRejected for a state refusal changes nothing', () => {
      const rejected: PaymentEvent = {
        type: 'PaymentCommandRejected',
        data: { paymentId: PAYMENT_ID, commandId: 'x', commandType: 'VoidPayment', reasonCode: 'invalid_state', status: 'captured', detail: 'no' },
      };
      expect(stateAfter([...manualCaptured, rejected])).toEqual(stateAfter(manualCaptured));
    });
  });

  describe('PaymentStateError', () => {
    it('carries the command, the status and the reason code', () => {
      const error = new PaymentStateError('CapturePayment', 'voided');
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({
        name: 'PaymentStateError', command: 'CapturePayment', status: 'voided', reasonCode: 'invalid_state',
        message: "cannot capture a payment in status 'voided'",
      });
    });
  });
});
