// Proves the external-rail path (card, e_wallet, mobile_money) of the Payment aggregate and its process
// manager: every connector answer in every state that waits for one (approved, declined, failed), the
// attempts recorded as events, the ledger bookings against the connector's clearing account after a
// capture or a refund, the connector timeout and its outcome, the compensating voids, and the refusals
// (a request without its source, a ledger answer before the connector moved the money).
import type { PaymentRequestedData, RequestPaymentData, TransferPostedData, WireBalances, WireMoney } from '@clearline/contracts';
import {
  captureTransferId, clearingAccountId, connectorCallId, type ConnectorAttemptRecord, type ConnectorCallCompletedData,
} from './connector-calls.js';
import {
  decidePayment, evolvePayment, initialPaymentState, PaymentStateError, refundTransferId,
  type PaymentCommand, type PaymentEvent, type PaymentState, type PaymentStatus,
} from './payment.js';
import { decidePaymentProcess, DEFAULT_PAYMENT_TIMEOUTS, type ProcessContext, type ProcessInput, type ProcessOutput } from './payment-process.js';

const PAYMENT_ID = '5b0c6f0e-8d1a-5e2b-9c3d-4e5f6a7b8c9d';
const HOLD_ID = '0f1e2d3c-4b5a-5968-8776-655443322110';
const REFUND_ID = '7d3a9c52-1b4e-4f8a-9c6d-2e5f8a1b3c4d';
const REQUESTED_AT = '2025-03-01T09:00:00Z';
const NOW = '2025-03-01T09:00:02.500Z';
const EXPIRES_AT = '2025-03-01T09:01:01.000Z';
const in30s = '2025-03-01T09:00:32.500Z';
const TOKEN = 'tok_abcdefghijklmnopqrstuv';
const context: ProcessContext = { newHoldId: HOLD_ID, now: NOW, timeouts: DEFAULT_PAYMENT_TIMEOUTS };
const eur = (amountMinor: string): WireMoney => ({ amountMinor, currency: 'EUR' });
const balances: WireBalances = { currency: 'EUR', postedMinor: '0', pendingMinor: '0', availableMinor: '0' };

const card = { token: TOKEN, fingerprint: 'a'.repeat(64), last4: '4242', brand: 'visa' as const, expMonth: 12, expYear: 2031 };
const saleRequest: RequestPaymentData = {
  paymentId: PAYMENT_ID, channel: 'card_acquiring', merchantId: 'merchant-1', merchantAccountId: 'merchant-account-1',
  payerAccountId: 'payer-1', amount: eur('2500'), method: 'card', card,
};
const sale: PaymentRequestedData = { ...saleRequest, requestedAt: REQUESTED_AT };
const manual: PaymentRequestedData = { ...sale, captureMode: 'manual', authorizationTtlMs: 60_000 };

const ids = {
  authorize: connectorCallId(PAYMENT_ID, 'authorize', HOLD_ID),
  saleCapture: connectorCallId(PAYMENT_ID, 'capture', HOLD_ID),
  capture: connectorCallId(PAYMENT_ID, 'capture', 'capture-1'),
  void: connectorCallId(PAYMENT_ID, 'void', 'void-1'),
  compensation: connectorCallId(PAYMENT_ID, 'void', `compensation:${HOLD_ID}`),
  refund: connectorCallId(PAYMENT_ID, 'refund', REFUND_ID),
};
const clearing = clearingAccountId('card-primary', 'EUR');

// Attempts and answers as the executor reports them.
const approvedAttempt = (connectorId = 'card-primary', attempt = 1): ConnectorAttemptRecord =>
  ({ connectorId, attempt, latencyMs: 40, outcome: 'approved', code: null, retryable: null, reference: 'ref-1' });
const unavailableAttempt = (connectorId: string, attempt: number): ConnectorAttemptRecord =>
  ({ connectorId, attempt, latencyMs: 3, outcome: 'failed', code: 'service_unavailable', retryable: true, reference: null });
const declinedAttempt: ConnectorAttemptRecord = { connectorId: 'card-primary', attempt: 1, latencyMs: 50, outcome: 'declined', code: 'do_not_honor', retryable: null, reference: null };
const answer = (callId: string, operation: ConnectorCallCompletedData['operation'], outcome: 'approved' | 'declined' | 'unavailable', extra: Partial<ConnectorCallCompletedData> = {}): ConnectorCallCompletedData => {
  switch (outcome) {
    case 'approved':
      return { callId, operation, connectorId: 'card-primary', result: { outcome: 'approved', reference: 'ref-1' }, attempts: [approvedAttempt()], ...extra };
    case 'declined':
      return { callId, operation, connectorId: 'card-primary', result: { outcome: 'declined', code: 'do_not_honor' }, attempts: [declinedAttempt], ...extra };
    case 'unavailable':
      return {
        callId, operation, connectorId: null, result: { outcome: 'failed', retryable: true, code: 'connector_unavailable' },
        attempts: [unavailableAttempt('card-primary', 1), unavailableAttempt('card-backup', 1)], ...extra,
      };
  }
};
const attemptEvent = (call: ConnectorCallCompletedData, record: ConnectorAttemptRecord): PaymentEvent => ({
  type: record.outcome === 'approved' || record.outcome === 'declined' ? 'ConnectorAttemptSucceeded' : 'ConnectorAttemptFailed',
  data: { ...record, paymentId: PAYMENT_ID, callId: call.callId, operation: call.operation, ...(call.refundId ? { refundId: call.refundId } : {}) },
});
const attemptsOf = (call: ConnectorCallCompletedData): PaymentEvent[] => call.attempts.map((record) => attemptEvent(call, record));
const record = (call: ConnectorCallCompletedData): PaymentCommand => ({ type: 'RecordConnectorResult', data: call });

// The payment's events.
const requestedSale: PaymentEvent = { type: 'PaymentRequested', data: sale };
const requestedManual: PaymentEvent = { type: 'PaymentRequested', data: manual };
const authorizationStarted: PaymentEvent = { type: 'PaymentAuthorizationStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, riskScore: 10, expiresAt: EXPIRES_AT } };
const authorized: PaymentEvent = { type: 'PaymentAuthorized', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount: eur('2500') } };
const saleCaptureStarted: PaymentEvent = { type: 'PaymentCaptureStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount: eur('2500') } };
const captureStarted: PaymentEvent = { type: 'PaymentCaptureStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount: eur('1500'), commandId: 'capture-1', fingerprint: 'f' } };
const captured: PaymentEvent = { type: 'PaymentCaptured', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, amount: eur('1500'), authorizedAmount: eur('2500') } };
const voidStarted: PaymentEvent = { type: 'PaymentVoidStarted', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, commandId: 'void-1', fingerprint: 'f' } };
const refundStarted: PaymentEvent = {
  type: 'PaymentRefundStarted',
  data: { paymentId: PAYMENT_ID, refundId: REFUND_ID, amount: eur('500'), transferId: refundTransferId(PAYMENT_ID, REFUND_ID), commandId: 'refund-1', fingerprint: 'f' },
};
const authorizeApproved = answer(ids.authorize, 'authorize', 'approved');
const captureApproved = answer(ids.capture, 'capture', 'approved');
const refundApproved = answer(ids.refund, 'refund', 'approved', { refundId: REFUND_ID });

const saleAuthorizing = [requestedSale, authorizationStarted];
const manualAuthorized = [requestedManual, authorizationStarted, ...attemptsOf(authorizeApproved), authorized];
const manualCapturing = [...manualAuthorized, captureStarted];
const manualCapturedAtConnector = [...manualCapturing, ...attemptsOf(captureApproved)];
const manualCaptured = [...manualCapturedAtConnector, captured];
const refunding = [...manualCaptured, refundStarted];
const refundedAtConnector = [...refunding, ...attemptsOf(refundApproved)];

function stateAfter(events: PaymentEvent[]): PaymentState {
  return events.reduce(evolvePayment, initialPaymentState());
}

function given(history: PaymentEvent[]) {
  const state = stateAfter(history);
  return {
    when: (command: PaymentCommand) => ({
      then: (expected: PaymentEvent[]) => {
        const events = decidePayment(command, state);
        expect(events).toEqual(expected);
        return { andStatusIs: (status: PaymentStatus) => expect(events.reduce(evolvePayment, state).status).toBe(status) };
      },
      thenRefused: (message: string, reasonCode = 'invalid_state') => {
        expect(() => decidePayment(command, state)).toThrow(PaymentStateError);
        expect(() => decidePayment(command, state)).toThrow(message);
        try {
          decidePayment(command, state);
        } catch (error) {
          expect((error as PaymentStateError).reasonCode).toBe(reasonCode);
        }
      },
    }),
    process: (input: ProcessInput) => ({ then: (expected: ProcessOutput[]) => expect(decidePaymentProcess(input, state, context)).toEqual(expected) }),
  };
}

const schedule = (deadlineId: string, dueAt: string, wait: 'connector' | 'ledger' = 'connector'): ProcessOutput =>
  ({ target: 'timer', command: { type: 'ScheduleTimeout', data: { wait, deadlineId, attempt: 1, dueAt } } });
const cancel = (deadlineId: string): ProcessOutput => ({ target: 'timer', command: { type: 'CancelTimeout', data: { deadlineId } } });
const toPayment = (command: PaymentCommand): ProcessOutput => ({ target: 'payment', command } as ProcessOutput);
const openClearing: ProcessOutput = {
  target: 'ledger', command: { type: 'OpenAccount', data: { accountId: clearing, ownerId: 'clearline', kind: 'settlement', currency: 'EUR', allowNegativeBalance: true } },
};
const compensatingVoid: ProcessOutput = {
  target: 'connector',
  call: { callId: ids.compensation, paymentId: PAYMENT_ID, operation: 'void', rail: 'card', connectorId: 'card-primary', authorizationReference: 'ref-1' },
};
const transferPosted = (data: Pick<TransferPostedData, 'transferId' | 'debitAccountId' | 'creditAccountId' | 'amount'>): ProcessInput =>
  ({ type: 'TransferPosted', data: { ...data, debitBalances: balances, creditBalances: balances } });

describe('Payment on an external rail', () => {
  describe('when initial', () => {
    it('RequestPayment for a card without its card is refused (payment_source_missing)', () => {
      const { card: _card, ...withoutCard } = saleRequest;
      given([]).when({ type: 'RequestPayment', data: withoutCard, now: REQUESTED_AT }).thenRefused("method 'card' needs its card", 'payment_source_missing');
      given([]).when({ type: 'RequestPayment', data: { ...withoutCard, method: 'mobile_money' }, now: REQUESTED_AT }).thenRefused('needs its mobileMoney', 'payment_source_missing');
    });
  });

  describe('when authorizing', () => {
    it('an approval records its attempts and authorizes; a sale starts its capture at once', () => {
      const fallback: ConnectorCallCompletedData = { ...authorizeApproved, connectorId: 'card-backup', attempts: [unavailableAttempt('card-primary', 1), approvedAttempt('card-backup')] };
      given(saleAuthorizing).when(record(fallback)).then([...attemptsOf(fallback), authorized, saleCaptureStarted]).andStatusIs('capturing');
      const state = stateAfter([...saleAuthorizing, ...attemptsOf(fallback), authorized]);
      expect(state).toMatchObject({ status: 'authorized', connector: { connectorId: 'card-backup', reference: 'ref-1' } });
    });

    it('a decline declines the payment at the connector stage with the provider code', () => {
      const declined = answer(ids.authorize, 'authorize', 'declined');
      given(saleAuthorizing).when(record(declined)).then([
        ...attemptsOf(declined), { type: 'PaymentDeclined', data: { paymentId: PAYMENT_ID, stage: 'connector', reasonCode: 'connector_declined:do_not_honor' } },
      ]).andStatusIs('declined');
    });

    it('every connector down fails the payment with connector_unavailable; a non-retryable failure names its code', () => {
      const down = answer(ids.authorize, 'authorize', 'unavailable');
      given(saleAuthorizing).when(record(down)).then([...attemptsOf(down), { type: 'PaymentFailed', data: { paymentId: PAYMENT_ID, reasonCode: 'connector_unavailable' } }]).andStatusIs('failed');
      const refused: ConnectorCallCompletedData = { ...down, result: { outcome: 'failed', retryable: false, code: 'no route!' }, attempts: [] };
      given(saleAuthorizing).when(record(refused)).then([{ type: 'PaymentFailed', data: { paymentId: PAYMENT_ID, reasonCode: 'connector_failed:no_route_' } }]);
    });

    it('an answer to another call records its attempts only', () => {
      const other = answer(connectorCallId(PAYMENT_ID, 'authorize', 'another-hold'), 'authorize', 'declined');
      given(saleAuthorizing).when(record(other)).then(attemptsOf(other)).andStatusIs('authorizing');
    });

    it('TimeOutConnector fails the payment with connector_timeout', () => {
      given(saleAuthorizing).when({ type: 'TimeOutConnector', data: { holdId: HOLD_ID } }).then([{ type: 'PaymentFailed', data: { paymentId: PAYMENT_ID, reasonCode: 'connector_timeout' } }]);
    });

    it('the ledger answers of the wallet path are refused before anything was captured', () => {
      given(saleAuthorizing).when({ type: 'RecordHoldCaptured', data: { holdId: HOLD_ID }, now: NOW }).thenRefused("cannot record hold captured a payment in status 'authorizing'");
    });
  });

  describe('when capturing', () => {
    it('an approved capture records the attempt and waits for the ledger booking', () => {
      given(manualCapturing).when(record(captureApproved)).then(attemptsOf(captureApproved)).andStatusIs('capturing');
      expect(stateAfter(manualCapturedAtConnector)).toMatchObject({ status: 'capturing', capture: { connectorCaptured: true } });
    });

    it('RecordHoldCaptured before the connector captured is refused; after it, the payment is captured', () => {
      given(manualCapturing).when({ type: 'RecordHoldCaptured', data: { holdId: HOLD_ID }, now: NOW }).thenRefused('the connector has not captured yet');
      given(manualCapturedAtConnector).when({ type: 'RecordHoldCaptured', data: { holdId: HOLD_ID }, now: NOW }).then([captured]).andStatusIs('captured');
    });

    it('a declined manual capture is answered to its caller and the authorization stays', () => {
      const declined = answer(ids.capture, 'capture', 'declined');
      given(manualCapturing).when(record(declined)).then([...attemptsOf(declined), {
        type: 'PaymentCommandRejected',
        data: {
          paymentId: PAYMENT_ID, commandId: 'capture-1', commandType: 'CapturePayment', reasonCode: 'connector_declined:do_not_honor', status: 'capturing',
          detail: 'the connector refused the capture: connector_declined:do_not_honor',
        },
      }]).andStatusIs('authorized');
    });

    it('a sale whose capture fails is failed', () => {
      const down = answer(ids.saleCapture, 'capture', 'unavailable');
      given([...saleAuthorizing, ...attemptsOf(authorizeApproved), authorized, saleCaptureStarted]).when(record(down))
        .then([...attemptsOf(down), { type: 'PaymentFailed', data: { paymentId: PAYMENT_ID, reasonCode: 'connector_unavailable' } }]).andStatusIs('failed');
    });
  });

  describe('when voiding', () => {
    it('an approved void voids; a refused one gives the authorization back and tells the caller', () => {
      const approved = answer(ids.void, 'void', 'approved');
      given([...manualAuthorized, voidStarted]).when(record(approved)).then([
        ...attemptsOf(approved), { type: 'PaymentVoided', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, releasedAmount: eur('2500') } },
      ]).andStatusIs('voided');
      const declined = answer(ids.void, 'void', 'declined');
      given([...manualAuthorized, voidStarted]).when(record(declined)).then([...attemptsOf(declined), {
        type: 'PaymentCommandRejected',
        data: {
          paymentId: PAYMENT_ID, commandId: 'void-1', commandType: 'VoidPayment', reasonCode: 'connector_declined:do_not_honor', status: 'voiding',
          detail: 'the connector refused the void: connector_declined:do_not_honor',
        },
      }]).andStatusIs('authorized');
    });
  });

  describe('when refunding', () => {
    it('an approved refund waits for its booking; the booking refunds the payment', () => {
      given(refunding).when(record(refundApproved)).then(attemptsOf(refundApproved)).andStatusIs('refunding');
      const posted: PaymentCommand = { type: 'RecordRefundPosted', data: { transferId: refundTransferId(PAYMENT_ID, REFUND_ID) } };
      given(refunding).when(posted).thenRefused(`the connector has not refunded ${REFUND_ID} yet`);
      given(refundedAtConnector).when(posted).then([{
        type: 'PaymentRefunded',
        data: { paymentId: PAYMENT_ID, refundId: REFUND_ID, amount: eur('500'), refundedTotal: eur('500'), transferId: refundTransferId(PAYMENT_ID, REFUND_ID) },
      }]).andStatusIs('partially_refunded');
    });

    it('a declined refund fails that refund with the provider code', () => {
      const declined = answer(ids.refund, 'refund', 'declined', { refundId: REFUND_ID });
      given(refunding).when(record(declined)).then([...attemptsOf(declined), {
        type: 'RefundFailed', data: { paymentId: PAYMENT_ID, refundId: REFUND_ID, amount: eur('500'), reasonCode: 'connector_declined:do_not_honor' },
      }]).andStatusIs('captured');
    });
  });

  describe('when ended', () => {
    it('a late answer records its attempts and changes nothing', () => {
      const failed: PaymentEvent = { type: 'PaymentFailed', data: { paymentId: PAYMENT_ID, reasonCode: 'connector_timeout' } };
      given([...saleAuthorizing, failed]).when(record(authorizeApproved)).then(attemptsOf(authorizeApproved)).andStatusIs('failed');
    });
  });
});

describe('payment process on an external rail', () => {
  it('PaymentAuthorizationStarted calls the connector (token only) and starts the connector timer', () => {
    given(saleAuthorizing).process(authorizationStarted).then([
      cancel('risk'), cancel('review'),
      { target: 'connector', call: { callId: ids.authorize, paymentId: PAYMENT_ID, operation: 'authorize', rail: 'card', amount: eur('2500'), source: { rail: 'card', token: TOKEN } } },
      schedule('connector:authorize', in30s),
    ]);
  });

  it('ConnectorCallCompleted goes to the payment as RecordConnectorResult', () => {
    given(saleAuthorizing).process({ type: 'ConnectorCallCompleted', data: authorizeApproved }).then([toPayment(record(authorizeApproved))]);
  });

  it('PaymentCaptureStarted calls the connector capture on the connector that authorized', () => {
    given(manualCapturing).process(captureStarted).then([
      { target: 'connector', call: { callId: ids.capture, paymentId: PAYMENT_ID, operation: 'capture', rail: 'card', amount: eur('1500'), connectorId: 'card-primary', authorizationReference: 'ref-1' } },
      schedule('connector:capture', in30s),
    ]);
  });

  it('the approved capture attempt opens the clearing account and books clearing -> merchant under a ledger timer', () => {
    const transferId = captureTransferId(PAYMENT_ID, HOLD_ID);
    given(manualCapturedAtConnector).process(attemptsOf(captureApproved)[0]!).then([
      cancel('connector:capture'), openClearing,
      { target: 'ledger', command: { type: 'PostTransfer', data: { transferId, debitAccountId: clearing, creditAccountId: 'merchant-account-1', amount: eur('1500') } } },
      schedule('ledger:capture', in30s, 'ledger'),
    ]);
  });

  it('TransferPosted of the capture booking records the capture; a refusal goes to an operator', () => {
    const transfer = { transferId: captureTransferId(PAYMENT_ID, HOLD_ID), debitAccountId: clearing, creditAccountId: 'merchant-account-1', amount: eur('1500') };
    given(manualCapturedAtConnector).process(transferPosted(transfer)).then([toPayment({ type: 'RecordHoldCaptured', data: { holdId: HOLD_ID }, now: NOW })]);
    const outputs = decidePaymentProcess({ type: 'TransferRejected', data: { ...transfer, reasonCode: 'account_not_found' } }, stateAfter(manualCapturedAtConnector), context);
    expect(outputs).toEqual([cancel('ledger:capture'), expect.objectContaining({ target: 'operator', alert: expect.objectContaining({ reasonCode: 'capture_booking_rejected' }) })]);
  });

  it('the approved refund attempt books merchant -> clearing; TransferPosted records the refund', () => {
    const transferId = refundTransferId(PAYMENT_ID, REFUND_ID);
    given(refundedAtConnector).process(attemptsOf(refundApproved)[0]!).then([
      cancel(`connector:refund:${REFUND_ID}`), openClearing,
      { target: 'ledger', command: { type: 'PostTransfer', data: { transferId, debitAccountId: 'merchant-account-1', creditAccountId: clearing, amount: eur('500') } } },
      schedule(`ledger:refund:${REFUND_ID}`, in30s, 'ledger'),
    ]);
    given(refundedAtConnector).process(transferPosted({ transferId, debitAccountId: 'merchant-account-1', creditAccountId: clearing, amount: eur('500') }))
      .then([toPayment({ type: 'RecordRefundPosted', data: { transferId } })]);
  });

  it('PaymentVoidStarted calls the connector void', () => {
    given([...manualAuthorized, voidStarted]).process(voidStarted).then([
      { target: 'connector', call: { callId: ids.void, paymentId: PAYMENT_ID, operation: 'void', rail: 'card', connectorId: 'card-primary', authorizationReference: 'ref-1' } },
      schedule('connector:void', in30s),
    ]);
  });

  describe('timeouts', () => {
    it('no answer to the authorization: TimeOutConnector', () => {
      given(saleAuthorizing).process({ type: 'PaymentTimeoutElapsed', data: { wait: 'connector', deadlineId: 'connector:authorize', attempt: 1 } })
        .then([toPayment({ type: 'TimeOutConnector', data: { holdId: HOLD_ID } })]);
    });

    it('no answer to a capture: an operator looks (money may have moved)', () => {
      const outputs = decidePaymentProcess({ type: 'PaymentTimeoutElapsed', data: { wait: 'connector', deadlineId: 'connector:capture', attempt: 1 } }, stateAfter(manualCapturing), context);
      expect(outputs).toEqual([expect.objectContaining({ target: 'operator', alert: expect.objectContaining({ reasonCode: 'connector_timeout' }) })]);
    });

    it('a timer of a call already answered is ignored', () => {
      given(manualCapturedAtConnector).process({ type: 'PaymentTimeoutElapsed', data: { wait: 'connector', deadlineId: 'connector:capture', attempt: 1 } }).then([]);
    });
  });

  describe('compensations', () => {
    it('an approval after the payment timed out is voided at once', () => {
      const failed: PaymentEvent = { type: 'PaymentFailed', data: { paymentId: PAYMENT_ID, reasonCode: 'connector_timeout' } };
      given([...saleAuthorizing, failed]).process({ type: 'ConnectorCallCompleted', data: authorizeApproved }).then([toPayment(record(authorizeApproved)), compensatingVoid]);
    });

    it('a sale whose capture failed voids its authorization', () => {
      const failed: PaymentEvent = { type: 'PaymentFailed', data: { paymentId: PAYMENT_ID, reasonCode: 'connector_unavailable' } };
      const history = [...saleAuthorizing, ...attemptsOf(authorizeApproved), authorized, saleCaptureStarted, failed];
      given(history).process(failed).then([cancel('connector:authorize'), cancel('connector:capture'), cancel('ledger:capture'), compensatingVoid]);
    });

    it('an expired authorization is voided at the connector, never with the ledger', () => {
      const expired: PaymentEvent = { type: 'PaymentExpired', data: { paymentId: PAYMENT_ID, holdId: HOLD_ID, reasonCode: 'authorization_expired' } };
      given([...manualAuthorized, expired]).process(expired).then([cancel('authorization'), cancel('connector:capture'), cancel('connector:void'), compensatingVoid]);
    });
  });
});
