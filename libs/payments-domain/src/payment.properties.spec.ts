// Proves with fast-check that whatever channels, analysts, the ledger, the connectors and the timers do,
// in any order and any number of times, a payment (wallet or card rail) never captures more than it
// authorized, never refunds more than it captured, reports a running refund total that matches its
// refunds, never leaves a terminal state, and on the card rail captures or refunds only what a
// connector approved first.
import fc from 'fast-check';
import type { PaymentRequestedData, PaymentWait, WireBalances, WireMoney } from '@clearline/contracts';
import {
  decidePayment, evolvePayment, initialPaymentState, isCaptured, PaymentStateError, TERMINAL_STATUSES,
  type PaymentCommand, type PaymentEvent, type PaymentState,
} from './payment.js';
import { decidePaymentProcess, DEFAULT_PAYMENT_TIMEOUTS, pendingConnectorCall, type ProcessContext, type ProcessInput } from './payment-process.js';
import { captureTransferId, type ConnectorCallCompletedData } from './connector-calls.js';

const PAYMENT_ID = '5b0c6f0e-8d1a-5e2b-9c3d-4e5f6a7b8c9d';
const HOLD_ID = '0f1e2d3c-4b5a-5968-8776-655443322110';
const AUTHORIZED_MINOR = 2500n;
const REFUND_IDS = ['7d3a9c52-1b4e-4f8a-9c6d-2e5f8a1b3c4d', '8e4b0d63-2c5f-4a9b-8d7e-3f6a9b2c4d5e', '9f5c1e74-3d6a-4b0c-9e8f-4a7b0c3d5e6f'];
const context: ProcessContext = { newHoldId: HOLD_ID, now: '2025-03-01T09:00:01.000Z', timeouts: DEFAULT_PAYMENT_TIMEOUTS };
const balances: WireBalances = { currency: 'EUR', postedMinor: '0', pendingMinor: '0', availableMinor: '0' };
const eur = (amountMinor: bigint): WireMoney => ({ amountMinor: amountMinor.toString(), currency: 'EUR' });

/** One thing that can happen to a payment: a command from outside, or an answer the process receives. */
type Step =
  | { kind: 'command'; command: PaymentCommand }
  | { kind: 'ledgerAnswers'; accepted: boolean; refundIndex: number }
  | { kind: 'holdExpires' }
  | { kind: 'risk'; decision: 'approve' | 'review' | 'decline' }
  | { kind: 'timeout'; wait: PaymentWait; deadline: string; attempt: number }
  | { kind: 'connectorAnswers'; outcome: 'approved' | 'declined' | 'unavailable'; refundIndex: number };

const commandId = fc.constantFrom('c1', 'c2', 'c3');
const amountMinor = fc.bigInt({ min: 1n, max: 3_000n });
// Weighted so that most runs get past risk and the hold and spend their steps on captures and refunds.
const mostlyTrue = fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ commandId, amount: fc.option(amountMinor, { nil: undefined }) }).map(({ commandId, amount }): Step =>
    ({ kind: 'command', command: { type: 'CapturePayment', data: { commandId, ...(amount ? { amount: eur(amount) } : {}) } } })),
  commandId.map((id): Step => ({ kind: 'command', command: { type: 'VoidPayment', data: { commandId: id } } })),
  {
    arbitrary: fc.record({ commandId, refundId: fc.constantFrom(...REFUND_IDS), amount: fc.oneof(fc.constantFrom(500n, 1250n, 2500n), amountMinor) }).map(({ commandId, refundId, amount }): Step =>
      ({ kind: 'command', command: { type: 'RefundPayment', data: { commandId, refundId, amount: eur(amount) } } })),
    weight: 3,
  },
  fc.record({ commandId, decision: fc.constantFrom('approve' as const, 'decline' as const) }).map(({ commandId, decision }): Step =>
    ({ kind: 'command', command: { type: 'ReviewPayment', data: { commandId, decision, holdId: HOLD_ID }, now: context.now } })),
  { arbitrary: fc.record({ accepted: mostlyTrue, refundIndex: fc.nat(2) }).map((answer): Step => ({ kind: 'ledgerAnswers', ...answer })), weight: 4 },
  fc.constant<Step>({ kind: 'holdExpires' }),
  { arbitrary: fc.constantFrom('approve', 'approve', 'approve', 'approve', 'review', 'decline').map((decision): Step => ({ kind: 'risk', decision })), weight: 2 },
  fc.record({
    wait: fc.constantFrom<PaymentWait>('risk', 'review', 'ledger', 'authorization', 'connector'),
    deadline: fc.constantFrom(
      'risk', 'review', 'authorization', 'ledger:hold', 'ledger:capture', 'ledger:void', `ledger:refund:${REFUND_IDS[0]}`,
      'connector:authorize', 'connector:capture', 'connector:void', `connector:refund:${REFUND_IDS[0]}`,
    ),
    attempt: fc.integer({ min: 1, max: 3 }),
  }).map((timeout): Step => ({ kind: 'timeout', ...timeout })),
  {
    arbitrary: fc.record({ outcome: fc.constantFrom('approved' as const, 'approved' as const, 'approved' as const, 'declined' as const, 'unavailable' as const), refundIndex: fc.nat(2) })
      .map((answer): Step => ({ kind: 'connectorAnswers', ...answer })),
    weight: 4,
  },
);

/** The connector's answer to the call the payment waits for, or undefined when it waits for none (the wallet never does). */
function connectorAnswer(state: PaymentState, outcome: 'approved' | 'declined' | 'unavailable', refundIndex: number): ProcessInput | undefined {
  const refundDeadlines = isCaptured(state) ? Object.values(state.refunds).filter((refund) => refund.status === 'pending').map((refund) => `connector:refund:${refund.refundId}`) : [];
  const deadlines = ['connector:authorize', 'connector:capture', 'connector:void', ...refundDeadlines.slice(refundIndex), ...refundDeadlines];
  const call = deadlines.map((deadline) => pendingConnectorCall(deadline, state)).find((pending) => pending !== undefined);
  if (call === undefined) return undefined;
  const common = { callId: call.callId, operation: call.operation, ...(call.refundId ? { refundId: call.refundId } : {}) };
  const answers: Record<typeof outcome, ConnectorCallCompletedData> = {
    approved: { ...common, connectorId: 'card-a', result: { outcome: 'approved', reference: 'ref-1' }, attempts: [{ connectorId: 'card-a', attempt: 1, latencyMs: 5, outcome: 'approved', code: null, retryable: null, reference: 'ref-1' }] },
    declined: { ...common, connectorId: 'card-a', result: { outcome: 'declined', code: 'do_not_honor' }, attempts: [{ connectorId: 'card-a', attempt: 1, latencyMs: 5, outcome: 'declined', code: 'do_not_honor', retryable: null, reference: null }] },
    unavailable: { ...common, connectorId: null, result: { outcome: 'failed', retryable: true, code: 'connector_unavailable' }, attempts: [{ connectorId: 'card-a', attempt: 1, latencyMs: 5, outcome: 'failed', code: 'service_unavailable', retryable: true, reference: null }] },
  };
  return { type: 'ConnectorCallCompleted', data: answers[outcome] };
}

/** External rail: the ledger's answer to the booking the payment waits for (after the connector moved the money). */
function clearingAnswer(state: PaymentState, accepted: boolean, refundIndex: number): ProcessInput | undefined {
  const transfer = (transferId: string, amountMinor: bigint) => ({ transferId, debitAccountId: 'clearing-card-a-EUR', creditAccountId: 'merchant-1', amount: eur(amountMinor) });
  let booking: ReturnType<typeof transfer> | undefined;
  if (state.status === 'capturing' && state.capture.connectorCaptured === true) booking = transfer(captureTransferId(PAYMENT_ID, state.holdId), state.capture.amountMinor);
  if (isCaptured(state)) {
    const refund = Object.values(state.refunds).filter((candidate) => candidate.status === 'pending' && candidate.connectorRefunded === true)[refundIndex];
    if (refund !== undefined) booking = transfer(refund.transferId, refund.amountMinor);
  }
  if (booking === undefined) return undefined;
  return accepted
    ? { type: 'TransferPosted', data: { ...booking, debitBalances: balances, creditBalances: balances } }
    : { type: 'TransferRejected', data: { ...booking, reasonCode: 'account_frozen' } };
}

/** The ledger's answer to what the payment waits for (accepted or refused), or undefined when it waits for nothing. */
function ledgerAnswer(state: PaymentState, accepted: boolean, refundIndex: number): ProcessInput | undefined {
  if (state.status !== 'initial' && state.payment.method === 'card') return clearingAnswer(state, accepted, refundIndex);
  const common = { holdId: HOLD_ID, accountId: 'wallet-1', paymentId: PAYMENT_ID };
  switch (state.status) {
    case 'authorizing':
      return accepted
        ? { type: 'HoldPlaced', data: { ...common, amount: eur(AUTHORIZED_MINOR), balances } }
        : { type: 'HoldRejected', data: { ...common, amount: eur(AUTHORIZED_MINOR), reasonCode: 'insufficient_funds' } };
    case 'capturing': {
      const capture = { ...common, creditAccountId: 'merchant-1', amount: eur(state.capture.amountMinor) };
      return accepted
        ? { type: 'HoldCaptured', data: { ...capture, debitBalances: balances, creditBalances: balances } }
        : { type: 'CaptureRejected', data: { ...capture, reasonCode: 'account_frozen' } };
    }
    case 'voiding':
      return { type: 'HoldVoided', data: { holdId: HOLD_ID, accountId: 'wallet-1' } };
    default: {
      if (!isCaptured(state)) return undefined;
      const refund = Object.values(state.refunds).filter((candidate) => candidate.status === 'pending')[refundIndex];
      if (refund === undefined) return undefined;
      const reversal = { transferId: refund.transferId, originalTransferId: HOLD_ID, amount: eur(refund.amountMinor), balancesAfter: {} };
      return accepted
        ? { type: 'TransferReversed', data: { ...reversal, debitAccountId: 'merchant-1', creditAccountId: 'wallet-1' } }
        : { type: 'TransferReversalRejected', data: { ...reversal, reasonCode: 'insufficient_funds' } };
    }
  }
}

function inputOf(step: Step, state: PaymentState): ProcessInput | undefined {
  switch (step.kind) {
    case 'ledgerAnswers':
      return ledgerAnswer(state, step.accepted, step.refundIndex);
    case 'holdExpires':
      return { type: 'HoldExpired', data: { holdId: HOLD_ID, accountId: 'wallet-1', releasedAmountMinor: '2500', balances, expiresAt: context.now } };
    case 'risk':
      return { type: 'RiskAssessed', data: { paymentId: PAYMENT_ID, payerAccountId: 'wallet-1', score: 50, decision: step.decision, reasons: [], ruleSetVersion: 'p' } };
    case 'timeout':
      return { type: 'PaymentTimeoutElapsed', data: { wait: step.wait, deadlineId: step.deadline, attempt: step.attempt } };
    case 'connectorAnswers':
      return connectorAnswer(state, step.outcome, step.refundIndex);
    case 'command':
      return undefined;
    default: {
      const unreachable: never = step;
      return unreachable;
    }
  }
}

/** Applies one step as apps/payments does: the process reacts to the input and to every event that follows. */
function apply(step: Step, events: PaymentEvent[]): void {
  const state = () => events.reduce(evolvePayment, initialPaymentState());
  const queue: PaymentCommand[] = [];
  if (step.kind === 'command') queue.push(step.command);
  else {
    const input = inputOf(step, state());
    if (input === undefined) return;
    for (const output of decidePaymentProcess(input, state(), context)) if (output.target === 'payment') queue.push(output.command);
  }
  for (let command = queue.shift(); command !== undefined; command = queue.shift()) {
    let decided: PaymentEvent[];
    try {
      decided = decidePayment(command, state());
    } catch (error) {
      if (error instanceof PaymentStateError) continue;
      throw error;
    }
    for (const event of decided) {
      events.push(event);
      for (const output of decidePaymentProcess(event, state(), context)) if (output.target === 'payment') queue.push(output.command);
    }
  }
}

function payment(captureMode: 'automatic' | 'manual', rail: 'wallet' | 'card'): PaymentRequestedData {
  const common = {
    paymentId: PAYMENT_ID, channel: 'e_wallet' as const, merchantId: 'merchant-1', merchantAccountId: 'merchant-1', payerAccountId: 'wallet-1',
    amount: eur(AUTHORIZED_MINOR), captureMode, requestedAt: '2025-03-01T09:00:00.000Z',
  };
  if (rail === 'wallet') return { ...common, method: 'wallet' };
  return { ...common, method: 'card', card: { token: 'tok_abcdefghijklmnopqrstuv', fingerprint: 'a'.repeat(64), last4: '4242', brand: 'visa', expMonth: 12, expYear: 2031 } };
}

describe('Payment invariants under random command sequences', () => {
  it('never captures more than authorized, never refunds more than captured, and a terminal state stays terminal', () => {
    const rail = fc.constantFrom('wallet' as const, 'card' as const);
    fc.assert(fc.property(fc.constantFrom('automatic' as const, 'manual' as const), rail, fc.array(step, { minLength: 5, maxLength: 40 }), fc.boolean(), (captureMode, railOf, steps, approved) => {
      const events: PaymentEvent[] = [{ type: 'PaymentRequested', data: payment(captureMode, railOf) }];
      // Half the runs start past risk and the authorization (the hold, or the connector's), where captures and refunds happen.
      const authorization: Step = railOf === 'wallet' ? { kind: 'ledgerAnswers', accepted: true, refundIndex: 0 } : { kind: 'connectorAnswers', outcome: 'approved', refundIndex: 0 };
      if (approved) [{ kind: 'risk', decision: 'approve' } as const, authorization].forEach((first) => apply(first, events));
      let terminal: string | undefined;
      for (const next of steps) {
        apply(next, events);
        const state = events.reduce(evolvePayment, initialPaymentState());
        if (terminal !== undefined) expect(state.status).toBe(terminal);
        if (TERMINAL_STATUSES.has(state.status)) terminal = state.status;

        const captures = events.filter((event) => event.type === 'PaymentCaptured');
        const capturedMinor = captures.reduce((total, event) => total + BigInt(event.data.amount.amountMinor), 0n);
        expect(captures.length).toBeLessThanOrEqual(1);
        expect(capturedMinor).toBeLessThanOrEqual(AUTHORIZED_MINOR);

        let refundedMinor = 0n;
        for (const event of events) {
          if (event.type !== 'PaymentRefunded') continue;
          refundedMinor += BigInt(event.data.amount.amountMinor);
          expect(event.data.refundedTotal.amountMinor).toBe(refundedMinor.toString());
        }
        expect(refundedMinor).toBeLessThanOrEqual(capturedMinor);
        if (isCaptured(state)) expect(state.refundedMinor + state.pendingRefundMinor).toBeLessThanOrEqual(state.capturedMinor);

        if (railOf === 'card') {
          // The card rail captures and refunds only after a connector approved that very step.
          const approvals = events.flatMap((event) => (event.type === 'ConnectorAttemptSucceeded' && event.data.outcome === 'approved' ? [event.data.operation] : []));
          if (captures.length > 0) expect(approvals).toContain('capture');
          expect(approvals.filter((operation) => operation === 'refund').length).toBeGreaterThanOrEqual(events.filter((event) => event.type === 'PaymentRefunded').length);
        }
      }
    }), { numRuns: 500 });
  });
});
