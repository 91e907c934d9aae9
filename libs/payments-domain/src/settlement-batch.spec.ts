// Proves the settlement batch decider by state: what each command yields when no batch is open,
// while it is open and once it is closed; that repeats are no-ops and conflicting repeats are refused
// with an error naming the state; and that a close computes gross - refunds - fees - carry-in as a
// non-negative net plus a carry-forward, with the ledger movements that pay it out as data.
import { deriveMessageId, validateEnvelope } from '@clearline/contracts';
import { moneyFromMinor, type Money } from '@clearline/money';
import { randomUUID } from 'node:crypto';
import {
  decideSettlementBatch, evolveSettlementBatch, initialSettlementBatchState, MAX_SETTLEMENT_BATCH_LINES, SETTLEMENT_BATCH_EVENT_TYPES,
  SettlementBatchError, settlementLedgerCommand, settlementTransferIds,
  type ClosedSettlementBatchState, type OpenSettlementBatchData, type SettlementBatchCommand, type SettlementBatchEvent,
  type SettlementBatchState, type SettlementBatchStatus, type SettlementRefusalCode,
} from './settlement-batch.js';
import { InvalidFeeScheduleError } from './fee-schedule.js';

const BATCH_ID = deriveMessageId('merchant-1:EUR', 'batch-1');
const OTHER_BATCH_ID = deriveMessageId('merchant-1:EUR', 'batch-2');
const PAYMENT_1 = deriveMessageId('test', 'payment-1');
const PAYMENT_2 = deriveMessageId('test', 'payment-2');
const EARLIER_PAYMENT = deriveMessageId('test', 'payment-from-an-earlier-batch');
const REFUND_1 = deriveMessageId('test', 'refund-1');
const OPENED_AT = '2026-11-27T00:00:00Z';
const CAPTURED_AT = '2026-11-27T10:00:00Z';
const REFUNDED_AT = '2026-11-27T11:00:00Z';
const CLOSED_AT = '2026-11-28T00:00:00Z';

const eur = (minor: bigint): Money => moneyFromMinor(minor, 'EUR');

const opening: OpenSettlementBatchData = {
  batchId: BATCH_ID,
  merchantId: 'merchant-1',
  currency: 'EUR',
  batchNo: 1,
  accounts: { merchantAccountId: 'merchant-1-eur', settlementAccountId: 'merchant-1-payout-eur', feeRevenueAccountId: 'fee-revenue-eur' },
  feeSchedule: { percentBasisPoints: 290n, fixedMinor: 30n }, // 2.9 % + 0.30
  carriedInMinor: 0n,
  openedAt: OPENED_AT,
};

// Commands.
const open = (overrides: Partial<OpenSettlementBatchData> = {}): SettlementBatchCommand => ({ type: 'OpenSettlementBatch', data: { ...opening, ...overrides } });
const addPayment = (paymentId: string, amount: Money): SettlementBatchCommand => ({ type: 'AddCapturedPayment', data: { paymentId, amount, capturedAt: CAPTURED_AT } });
const addRefund = (refundId: string, paymentId: string, amount: Money): SettlementBatchCommand =>
  ({ type: 'AddRefund', data: { paymentId, refundId, amount, refundedAt: REFUNDED_AT } });
const close = (batchId = BATCH_ID, reason: 'schedule' | 'on_demand' = 'schedule'): SettlementBatchCommand =>
  ({ type: 'CloseSettlementBatch', data: { batchId, closedAt: CLOSED_AT, reason } });

// Events.
const opened = (carriedInMinor = '0'): SettlementBatchEvent => ({
  type: 'SettlementBatchOpened',
  data: {
    batchId: BATCH_ID, merchantId: 'merchant-1', currency: 'EUR', batchNo: 1, merchantAccountId: 'merchant-1-eur',
    settlementAccountId: 'merchant-1-payout-eur', feeRevenueAccountId: 'fee-revenue-eur', percentBasisPoints: '290', fixedMinor: '30', carriedInMinor, openedAt: OPENED_AT,
  },
});
const paymentAdded = (paymentId: string, amountMinor: string, feeMinor: string): SettlementBatchEvent =>
  ({ type: 'PaymentAddedToSettlementBatch', data: { batchId: BATCH_ID, paymentId, amountMinor, feeMinor, capturedAt: CAPTURED_AT } });
const refundAdded = (refundId: string, paymentId: string, amountMinor: string): SettlementBatchEvent =>
  ({ type: 'RefundAddedToSettlementBatch', data: { batchId: BATCH_ID, paymentId, refundId, amountMinor, refundedAt: REFUNDED_AT } });

const transferIds = settlementTransferIds(BATCH_ID);
/** 100.00 EUR: fee 2.90 + 0.30 = 3.20. 12.50 EUR: fee 0.36 + 0.30 = 0.66. */
const paid100 = paymentAdded(PAYMENT_1, '10000', '320');
const paid12 = paymentAdded(PAYMENT_2, '1250', '66');

function stateAfter(events: SettlementBatchEvent[]): SettlementBatchState {
  return events.reduce(evolveSettlementBatch, initialSettlementBatchState());
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the command to be refused');
}

/** given(events).when(command).then(events) or .thenRefused(code), checking the error names the state. */
function given(history: SettlementBatchEvent[]) {
  const state = stateAfter(history);
  return {
    when: (command: SettlementBatchCommand) => ({
      then: (expected: SettlementBatchEvent[]) => {
        const events = decideSettlementBatch(command, state);
        expect(events).toEqual(expected);
        return events.reduce(evolveSettlementBatch, state);
      },
      thenRefused: (code: SettlementRefusalCode, detail?: string) => {
        const error = thrownBy(() => decideSettlementBatch(command, state));
        expect(error).toBeInstanceOf(SettlementBatchError);
        expect(error).toMatchObject({ code, status: state.status, command: command.type });
        expect((error as Error).message).toContain(`a settlement batch in status '${state.status}' (${code}`);
        if (detail) expect((error as Error).message).toContain(detail);
      },
    }),
  };
}

/** Decides and applies each command in turn, from the initial state. */
function run(commands: SettlementBatchCommand[]): SettlementBatchState {
  return commands.reduce((state, command) => decideSettlementBatch(command, state).reduce(evolveSettlementBatch, state), initialSettlementBatchState());
}

function closedState(history: SettlementBatchEvent[]): ClosedSettlementBatchState {
  const state = stateAfter([...history, ...decideSettlementBatch(close(), stateAfter(history))]);
  if (state.status !== 'closed') throw new Error(`expected a closed batch, got '${state.status}'`);
  return state;
}

describe('when no batch is open (initial)', () => {
  it('OpenSettlementBatch opens it with the schedule and carry-in in force', () => {
    const state = given([]).when(open()).then([opened()]);
    expect(state).toMatchObject({ status: 'open', batch: { batchId: BATCH_ID, feeSchedule: opening.feeSchedule, carriedInMinor: 0n } });
  });

  it.each([
    ['AddCapturedPayment', addPayment(PAYMENT_1, eur(10_000n))],
    ['AddRefund', addRefund(REFUND_1, PAYMENT_1, eur(100n))],
    ['CloseSettlementBatch', close()],
  ])('%s is refused: the batch is not open', (_type, command) => {
    given([]).when(command).thenRefused('batch_not_open');
  });

  it('names the state in words', () => {
    expect(() => decideSettlementBatch(addPayment(PAYMENT_1, eur(1n)), initialSettlementBatchState()))
      .toThrow("cannot add a captured payment to a settlement batch in status 'initial' (batch_not_open: open the batch first)");
  });

  it.each([
    ['batch number 0', { batchNo: 0 }, 'batchNo must be a positive integer'],
    ['a negative carry-in', { carriedInMinor: -1n }, 'carriedInMinor must be a non-negative bigint'],
  ])('refuses to open with %s', (_label, overrides, detail) => {
    given([]).when(open(overrides)).thenRefused('invalid_batch', detail);
  });

  it('refuses a fee schedule out of bounds, naming the field', () => {
    expect(() => decideSettlementBatch(open({ feeSchedule: { percentBasisPoints: 12_000n, fixedMinor: 0n } }), initialSettlementBatchState()))
      .toThrow(InvalidFeeScheduleError);
  });
});

describe('when open', () => {
  it('AddCapturedPayment adds the payment with its fee under the batch schedule', () => {
    given([opened()]).when(addPayment(PAYMENT_1, eur(10_000n))).then([paid100]);
    given([opened(), paid100]).when(addPayment(PAYMENT_2, eur(1_250n))).then([paid12]);
  });

  it('a repeated AddCapturedPayment (same id, same amount) is a no-op, so nothing is counted twice', () => {
    given([opened(), paid100]).when(addPayment(PAYMENT_1, eur(10_000n))).then([]);
  });

  it('the same payment id with another amount is refused', () => {
    given([opened(), paid100]).when(addPayment(PAYMENT_1, eur(9_999n)))
      .thenRefused('duplicate_payment_different_amount', `payment ${PAYMENT_1} is already in the batch with 10000, not 9999 minor units`);
  });

  it.each([
    ['a payment', addPayment(PAYMENT_1, moneyFromMinor(10_000n, 'USD'))],
    ['a refund', addRefund(REFUND_1, PAYMENT_1, moneyFromMinor(100n, 'USD'))],
  ])('%s in another currency is refused', (_label, command) => {
    given([opened()]).when(command).thenRefused('currency_mismatch', 'the batch settles EUR, the amount is in USD');
  });

  it.each([
    ['a zero payment', addPayment(PAYMENT_1, eur(0n))],
    ['a negative payment', addPayment(PAYMENT_1, eur(-100n))],
    ['a zero refund', addRefund(REFUND_1, PAYMENT_1, eur(0n))],
  ])('%s is refused', (_label, command) => {
    given([opened()]).when(command).thenRefused('invalid_amount');
  });

  it('AddRefund adds the refund, also for a payment that settled in an earlier batch', () => {
    given([opened(), paid100]).when(addRefund(REFUND_1, PAYMENT_1, eur(2_500n))).then([refundAdded(REFUND_1, PAYMENT_1, '2500')]);
    given([opened()]).when(addRefund(REFUND_1, EARLIER_PAYMENT, eur(2_500n))).then([refundAdded(REFUND_1, EARLIER_PAYMENT, '2500')]);
  });

  it('a repeated AddRefund is a no-op; the same refund id with another amount or payment is refused', () => {
    const history = [opened(), paid100, refundAdded(REFUND_1, PAYMENT_1, '2500')];
    given(history).when(addRefund(REFUND_1, PAYMENT_1, eur(2_500n))).then([]);
    given(history).when(addRefund(REFUND_1, PAYMENT_1, eur(2_501n))).thenRefused('duplicate_refund_different_body');
    given(history).when(addRefund(REFUND_1, PAYMENT_2, eur(2_500n))).thenRefused('duplicate_refund_different_body');
  });

  it('a repeated OpenSettlementBatch is a no-op; another opening on the same stream is refused', () => {
    given([opened()]).when(open()).then([]);
    given([opened()]).when(open({ carriedInMinor: 5n })).thenRefused('duplicate_open_different_body');
    given([opened()]).when(open({ batchId: OTHER_BATCH_ID })).thenRefused('batch_already_open');
  });

  it('CloseSettlementBatch for another batch id is refused', () => {
    given([opened()]).when(close(OTHER_BATCH_ID)).thenRefused('batch_id_mismatch', `this stream holds batch ${BATCH_ID}, not ${OTHER_BATCH_ID}`);
  });

  it('a full batch takes no more lines, so a batch, its replay and its report stay bounded', () => {
    const full = Array.from({ length: MAX_SETTLEMENT_BATCH_LINES }, (_, index) => paymentAdded(`p-${index}`, '100', '33'));
    given([opened(), ...full]).when(addPayment(PAYMENT_1, eur(100n))).thenRefused('batch_full');
    given([opened(), ...full]).when(addPayment('p-7', eur(100n))).then([]);
  });
});

describe('when open, CloseSettlementBatch', () => {
  it('pays out gross - refunds - fees and takes the fees, as one linked ledger command', () => {
    const history = [opened(), paid100, paid12, refundAdded(REFUND_1, EARLIER_PAYMENT, '1000')];
    const state = given(history).when(close(BATCH_ID, 'on_demand')).then([{
      type: 'SettlementBatchClosed',
      data: {
        settlementBatchId: BATCH_ID, merchantId: 'merchant-1', merchantAccountId: 'merchant-1-eur', currency: 'EUR', batchNo: 1,
        reason: 'on_demand', openedAt: OPENED_AT, closedAt: CLOSED_AT, paymentCount: 2, refundCount: 1,
        grossMinor: '11250', refundsMinor: '1000', feesMinor: '386', carriedInMinor: '0', netMinor: '9864', carriedForwardMinor: '0',
        ...transferIds,
      },
    }]);
    expect(state.status).toBe('closed');
    expect(settlementLedgerCommand(state as ClosedSettlementBatchState)).toEqual({
      batchId: transferIds.ledgerBatchId,
      transfers: [
        { transferId: transferIds.netTransferId, debitAccountId: 'merchant-1-eur', creditAccountId: 'merchant-1-payout-eur', amount: { amountMinor: '9864', currency: 'EUR' } },
        { transferId: transferIds.feeTransferId, debitAccountId: 'merchant-1-eur', creditAccountId: 'fee-revenue-eur', amount: { amountMinor: '386', currency: 'EUR' } },
      ],
    });
  });

  it('deducts what the previous batch carried forward', () => {
    const state = closedState([opened('5000'), paid100]);
    expect(state.closed).toMatchObject({ grossMinor: '10000', feesMinor: '320', carriedInMinor: '5000', netMinor: '4680', carriedForwardMinor: '0' });
  });

  it('carries a negative net forward instead of moving a negative amount, and still takes the fees', () => {
    const state = closedState([opened('200'), paid12, refundAdded(REFUND_1, EARLIER_PAYMENT, '5000')]);
    // 1250 - 5000 - 66 - 200 = -4016: nothing to pay, the merchant owes 40.16 EUR to the next batch.
    expect(state.closed).toMatchObject({ netMinor: '0', carriedForwardMinor: '4016', ledgerBatchId: transferIds.ledgerBatchId, feeTransferId: transferIds.feeTransferId });
    expect(state.closed).not.toHaveProperty('netTransferId');
    expect(settlementLedgerCommand(state)?.transfers).toEqual([
      { transferId: transferIds.feeTransferId, debitAccountId: 'merchant-1-eur', creditAccountId: 'fee-revenue-eur', amount: { amountMinor: '66', currency: 'EUR' } },
    ]);
  });

  it('asks nothing of the ledger when neither net nor fees move', () => {
    const state = closedState([opened(), refundAdded(REFUND_1, EARLIER_PAYMENT, '700')]);
    expect(state.closed).toMatchObject({ netMinor: '0', feesMinor: '0', carriedForwardMinor: '700', paymentCount: 0, refundCount: 1 });
    expect(state.closed).not.toHaveProperty('ledgerBatchId');
    expect(settlementLedgerCommand(state)).toBeNull();
  });

  it('works in the currency of the batch: JPY (no minor unit) and BHD (three)', () => {
    // 12 345 JPY at 3.6 % + 40 JPY: 444.42 -> 444, plus 40. 1.250 BHD at 2.9 % + 0.100: 36.25 fils -> 36, plus 100.
    const yen = run([open({ currency: 'JPY', feeSchedule: { percentBasisPoints: 360n, fixedMinor: 40n } }), addPayment(PAYMENT_1, moneyFromMinor(12_345n, 'JPY')), close()]);
    expect(yen).toMatchObject({ status: 'closed', closed: { currency: 'JPY', grossMinor: '12345', feesMinor: '484', netMinor: '11861' } });
    const dinar = run([open({ currency: 'BHD', feeSchedule: { percentBasisPoints: 290n, fixedMinor: 100n } }), addPayment(PAYMENT_1, moneyFromMinor(1_250n, 'BHD')), close()]);
    expect(dinar).toMatchObject({ status: 'closed', closed: { currency: 'BHD', grossMinor: '1250', feesMinor: '136', netMinor: '1114' } });
  });

  it('its ledger command is a valid PostLinkedTransfers for the ledger', () => {
    const command = settlementLedgerCommand(closedState([opened(), paid100]));
    const envelope = {
      id: randomUUID(), type: 'PostLinkedTransfers', schemaVersion: 1, data: command,
      metadata: { correlationId: 'c', causationId: 'c', occurredAt: CLOSED_AT, producer: 'test' },
    };
    expect(validateEnvelope(envelope)).toMatchObject({ valid: true });
  });
});

describe('when closed', () => {
  const closedHistory = (): SettlementBatchEvent[] => {
    const history = [opened(), paid100, refundAdded(REFUND_1, PAYMENT_1, '2500')];
    return [...history, ...decideSettlementBatch(close(), stateAfter(history))];
  };

  it.each([
    ['a new payment', addPayment(PAYMENT_2, eur(1_250n))],
    ['a new refund', addRefund(deriveMessageId('test', 'refund-2'), PAYMENT_1, eur(100n))],
  ])('accepts nothing new: %s is refused', (_label, command) => {
    given(closedHistory()).when(command).thenRefused('batch_closed', `batch ${BATCH_ID} closed at ${CLOSED_AT}; add to the open batch`);
  });

  it('answers a retry of what it already counted as done, without counting it again', () => {
    given(closedHistory()).when(addPayment(PAYMENT_1, eur(10_000n))).then([]);
    given(closedHistory()).when(addRefund(REFUND_1, PAYMENT_1, eur(2_500n))).then([]);
    given(closedHistory()).when(addPayment(PAYMENT_1, eur(1n))).thenRefused('duplicate_payment_different_amount');
  });

  it('a second close (a retry, or the schedule racing an on-demand close) is a no-op; the first close stands', () => {
    given(closedHistory()).when(close(BATCH_ID, 'on_demand')).then([]);
    given(closedHistory()).when(close(OTHER_BATCH_ID)).thenRefused('batch_id_mismatch');
  });

  it('says so in words', () => {
    expect(() => decideSettlementBatch(addPayment(PAYMENT_2, eur(1n)), stateAfter(closedHistory())))
      .toThrow("cannot add a captured payment to a settlement batch in status 'closed' (batch_closed:");
  });
});

describe('evolve', () => {
  it('knows every event type it handles', () => {
    expect([...SETTLEMENT_BATCH_EVENT_TYPES].sort()).toEqual(['PaymentAddedToSettlementBatch', 'RefundAddedToSettlementBatch', 'SettlementBatchClosed', 'SettlementBatchOpened']);
  });

  it('never throws, and ignores lines that arrive after the close (a closed batch changes no more)', () => {
    const closed = stateAfter([opened(), paid100, ...decideSettlementBatch(close(), stateAfter([opened(), paid100]))]);
    expect(evolveSettlementBatch(closed, paid12)).toBe(closed);
    expect(evolveSettlementBatch(initialSettlementBatchState(), paid12)).toEqual(initialSettlementBatchState());
  });

  it('an older state evolved again never sees the lines of a later state (the line log is shared safely)', () => {
    const base = stateAfter([opened(), paid100]);
    const withPayment = evolveSettlementBatch(base, paid12);
    const withRefund = evolveSettlementBatch(base, refundAdded(REFUND_1, PAYMENT_1, '100'));
    const lineIds = (state: SettlementBatchState) => (state.status === 'initial' ? [] : state.lines.toArray().map((line) => (line.kind === 'payment' ? line.paymentId : line.refundId)));
    expect(lineIds(base)).toEqual([PAYMENT_1]);
    expect(lineIds(withPayment)).toEqual([PAYMENT_1, PAYMENT_2]);
    expect(lineIds(withRefund)).toEqual([PAYMENT_1, REFUND_1]);
    if (base.status !== 'open' || withRefund.status !== 'open') throw new Error('expected open batches');
    expect(base.lines.payment(PAYMENT_2)).toBeUndefined();
    expect(withRefund.lines.payment(PAYMENT_2)).toBeUndefined();
    expect(withRefund.lines.refund(REFUND_1)).toMatchObject({ amountMinor: 100n });
  });

  it('statuses are initial, open and closed', () => {
    const statuses: SettlementBatchStatus[] = [stateAfter([]).status, stateAfter([opened()]).status, closedState([opened()]).status];
    expect(statuses).toEqual(['initial', 'open', 'closed']);
  });
});
