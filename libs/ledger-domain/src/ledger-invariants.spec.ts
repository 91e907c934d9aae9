// Proves the ledger's invariants over random histories: posted balances sum to zero, no account without allowNegativeBalance goes below zero available, pending equals the open holds, and every decision is double entry.
import fc from 'fast-check';
import type { OpenAccountData, WireBalances } from '@clearline/contracts';
import { availableMinor, balancesOf, evolveAccount, initialAccountState, type AccountEvent, type AccountState } from './account.js';
import {
  decideCaptureHold, decidePlaceHold, decidePostTransfer,
  type CaptureOutcome, type HoldOutcome, type LedgerDecision, type TransferOutcome,
} from './ledger-decisions.js';

const CURRENCY = 'EUR';
const PAYMENT_ID = '3c4d5e6f-7a8b-5c9d-a0e1-f2a3b4c5d6e7';

// One funding account that mirrors money outside the platform (may go negative), three that may not,
// and one id that is never opened, so account_not_found is part of the random mix.
const ACCOUNTS: OpenAccountData[] = [
  { accountId: 'funding-eur', ownerId: 'platform', kind: 'funding', currency: CURRENCY, allowNegativeBalance: true },
  { accountId: 'wallet-1', ownerId: 'customer-1', kind: 'customer_wallet', currency: CURRENCY, allowNegativeBalance: false },
  { accountId: 'wallet-2', ownerId: 'customer-2', kind: 'customer_wallet', currency: CURRENCY, allowNegativeBalance: false },
  { accountId: 'merchant-1', ownerId: 'merchant-1', kind: 'merchant', currency: CURRENCY, allowNegativeBalance: false },
];
const ACCOUNT_IDS = [...ACCOUNTS.map((account) => account.accountId), 'never-opened'];
const MAX_AMOUNT_MINOR = 5_000n;

type Operation =
  | { kind: 'transfer'; from: number; to: number; amountMinor: bigint }
  | { kind: 'hold'; account: number; amountMinor: bigint }
  /** `hold` picks one of the holds placed so far (captured ones included); `amountOffset` 0 is an exact capture. */
  | { kind: 'capture'; hold: number; to: number; amountOffset: number };

const NEVER_OPENED = ACCOUNT_IDS.length - 1;
const accountIndex = fc.oneof({ weight: 9, arbitrary: fc.nat({ max: NEVER_OPENED - 1 }) }, { weight: 1, arbitrary: fc.constant(NEVER_OPENED) });
const amountMinor = fc.bigInt({ min: 1n, max: MAX_AMOUNT_MINOR });
const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant('transfer' as const), from: accountIndex, to: accountIndex, amountMinor }),
  fc.record({ kind: fc.constant('hold' as const), account: accountIndex, amountMinor }),
  fc.record({
    kind: fc.constant('capture' as const),
    hold: fc.nat(),
    to: accountIndex,
    amountOffset: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -1, max: 1 }) }),
  }),
);

/** Money into the platform first, so the wallets have something to spend, then the random mix. */
const history: fc.Arbitrary<Operation[]> = fc.tuple(
  fc.array(fc.record({ kind: fc.constant('transfer' as const), from: fc.constant(0), to: fc.integer({ min: 1, max: NEVER_OPENED - 1 }), amountMinor }), { minLength: 1, maxLength: 6 }),
  fc.array(operation, { maxLength: 80, size: 'medium' }),
).map(([funding, mix]) => [...funding, ...mix]);

type Outcome = TransferOutcome | HoldOutcome | CaptureOutcome;

/** The whole ledger as account streams folded into states; a decision's account events are applied as the store would. */
class LedgerModel {
  readonly states = new Map<string, AccountState>();
  readonly placedHolds: { holdId: string; accountId: string; amountMinor: bigint }[] = [];
  private nextHold = 0;

  constructor() {
    for (const account of ACCOUNTS) this.append(account.accountId, [{ type: 'AccountOpened', data: account }]);
  }

  stateOf(accountId: string): AccountState {
    return this.states.get(accountId) ?? initialAccountState();
  }

  apply(step: Operation, transferId: string): LedgerDecision<Outcome> {
    const decision = this.decide(step, transferId);
    for (const [accountId, events] of decision.accountEvents) this.append(accountId, events);
    if (decision.outcome.type === 'HoldPlaced') {
      const { holdId, accountId, amount } = decision.outcome.data;
      this.placedHolds.push({ holdId, accountId, amountMinor: BigInt(amount.amountMinor) });
    }
    return decision;
  }

  private decide(step: Operation, transferId: string): LedgerDecision<Outcome> {
    switch (step.kind) {
      case 'transfer': {
        const debitAccountId = ACCOUNT_IDS[step.from] ?? '';
        const creditAccountId = ACCOUNT_IDS[step.to] ?? '';
        const command = { transferId, debitAccountId, creditAccountId, amount: { amountMinor: step.amountMinor.toString(), currency: CURRENCY } };
        return decidePostTransfer(command, this.stateOf(debitAccountId), this.stateOf(creditAccountId));
      }
      case 'hold': {
        // Fresh hold ids only: a reused id breaks the pending invariant (a known defect, see ledger-decisions.spec.ts).
        const holdId = `hold-${this.nextHold++}`;
        const accountId = ACCOUNT_IDS[step.account] ?? '';
        const command = { holdId, accountId, amount: { amountMinor: step.amountMinor.toString(), currency: CURRENCY }, paymentId: PAYMENT_ID };
        return decidePlaceHold(command, this.stateOf(accountId));
      }
      case 'capture': {
        const placed = this.placedHolds[step.hold % Math.max(1, this.placedHolds.length)]
          ?? { holdId: 'hold-none', accountId: ACCOUNT_IDS[1] ?? '', amountMinor: 1n };
        const creditAccountId = ACCOUNT_IDS[step.to] ?? '';
        // Off-by-one captures stay strictly positive, as the contract requires of amounts.
        const offsetMinor = placed.amountMinor + BigInt(step.amountOffset);
        const amount = { amountMinor: (offsetMinor > 0n ? offsetMinor : placed.amountMinor + 1n).toString(), currency: CURRENCY };
        const command = { holdId: placed.holdId, accountId: placed.accountId, creditAccountId, amount, paymentId: PAYMENT_ID };
        return decideCaptureHold(command, this.stateOf(placed.accountId), this.stateOf(creditAccountId));
      }
      default: {
        const unreachable: never = step;
        return unreachable;
      }
    }
  }

  private append(accountId: string, events: AccountEvent[]): void {
    this.states.set(accountId, events.reduce(evolveAccount, this.stateOf(accountId)));
  }
}

/** What is wrong with the ledger after a decision, as sentences; empty when every invariant holds. */
function invariantViolations(model: LedgerModel): string[] {
  const violations: string[] = [];
  let postedTotal = 0n;
  for (const [accountId, state] of model.states) {
    if (state.status !== 'open') continue;
    postedTotal += state.postedMinor;
    if (!state.allowNegativeBalance && availableMinor(state) < 0n) violations.push(`${accountId} is available ${availableMinor(state)} below zero`);
    const openHolds = [...state.holds.values()].reduce((sum, held) => sum + held, 0n);
    if (state.pendingMinor !== openHolds) violations.push(`${accountId} has pending ${state.pendingMinor} but open holds of ${openHolds}`);
  }
  if (postedTotal !== 0n) violations.push(`posted balances sum to ${postedTotal}`);
  return violations;
}

function decisionViolations(model: LedgerModel, decision: LedgerDecision<Outcome>): string[] {
  const violations: string[] = [];
  const { outcome } = decision;
  if (outcome.type.endsWith('Rejected') !== (decision.accountEvents.size === 0)) {
    violations.push(`${outcome.type} came with ${decision.accountEvents.size} account streams to append to`);
  }
  let debitedMinor = 0n;
  let creditedMinor = 0n;
  for (const events of decision.accountEvents.values()) {
    for (const event of events) {
      if (event.type === 'AccountDebited' || event.type === 'AccountHoldCaptured') debitedMinor += BigInt(event.data.amountMinor);
      if (event.type === 'AccountCredited') creditedMinor += BigInt(event.data.amountMinor);
    }
  }
  if (debitedMinor !== creditedMinor) violations.push(`${outcome.type} debited ${debitedMinor} but credited ${creditedMinor}`);
  for (const [accountId, reported] of reportedBalances(outcome)) {
    const state = model.stateOf(accountId);
    const replayed = state.status === 'open' ? JSON.stringify(balancesOf(state)) : 'unopened';
    if (replayed !== JSON.stringify(reported)) violations.push(`${outcome.type} reported ${JSON.stringify(reported)} for ${accountId}, replay gives ${replayed}`);
  }
  return violations;
}

function reportedBalances(outcome: Outcome): [string, WireBalances][] {
  switch (outcome.type) {
    case 'TransferPosted':
      return [[outcome.data.debitAccountId, outcome.data.debitBalances], [outcome.data.creditAccountId, outcome.data.creditBalances]];
    case 'HoldCaptured':
      return [[outcome.data.accountId, outcome.data.debitBalances], [outcome.data.creditAccountId, outcome.data.creditBalances]];
    case 'HoldPlaced':
      return [[outcome.data.accountId, outcome.data.balances]];
    case 'TransferRejected':
    case 'HoldRejected':
    case 'CaptureRejected':
      return [];
    default: {
      const unreachable: never = outcome;
      return unreachable;
    }
  }
}

/** Debits and holds an account without allowNegativeBalance was given beyond what it had available. */
function overdrawViolations(before: ReadonlyMap<string, AccountState>, decision: LedgerDecision<Outcome>): string[] {
  const violations: string[] = [];
  for (const [accountId, events] of decision.accountEvents) {
    const prior = before.get(accountId);
    if (prior?.status !== 'open' || prior.allowNegativeBalance) continue;
    const givenMinor = events
      .filter((event) => event.type === 'AccountDebited' || event.type === 'AccountFundsHeld')
      .reduce((sum, event) => sum + BigInt(event.data.amountMinor), 0n);
    if (givenMinor > availableMinor(prior)) violations.push(`${accountId} gave ${givenMinor} with ${availableMinor(prior)} available`);
  }
  return violations;
}

describe('ledger invariants over random transfers, holds and captures in one currency', () => {
  it('posted sums to zero, available never below zero without allowNegativeBalance, pending equals open holds, every decision double entry', () => {
    fc.assert(
      fc.property(history, (operations) => {
        const model = new LedgerModel();
        operations.forEach((step, position) => {
          const decision = model.apply(step, `transfer-${position}`);
          expect([...decisionViolations(model, decision), ...invariantViolations(model)]).toEqual([]);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('never debits or holds more than an account without allowNegativeBalance has available', () => {
    fc.assert(
      fc.property(history, (operations) => {
        const model = new LedgerModel();
        operations.forEach((step, position) => {
          const before = new Map(model.states);
          expect(overdrawViolations(before, model.apply(step, `transfer-${position}`))).toEqual([]);
        });
      }),
      { numRuns: 100 },
    );
  });
});
