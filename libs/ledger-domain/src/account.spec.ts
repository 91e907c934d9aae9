// Proves the account decider's state and opening: how each account event moves the posted, pending and available balances, and that re-opening (decided by decideLedger) is a replay for the same terms and refused with account_already_exists for others.
import type { LedgerRejectionCode, OpenAccountData, WireBalances } from '@clearline/contracts';
import {
  ACCOUNT_EVENT_TYPES, accountTermsOf, availableMinor, balancesOf, canGive, evolveAccount, initialAccountState, openedAccountData,
  type AccountEvent, type AccountState, type ExistingAccountState,
} from './account.js';
import { decideLedger } from './ledger.js';
import { initialLedgerState, LedgerDomainError, type LedgerResult } from './ledger-state.js';

const wallet: OpenAccountData = {
  accountId: 'wallet-1', ownerId: 'customer-1', kind: 'customer_wallet', currency: 'EUR', allowNegativeBalance: false,
};
const funding: OpenAccountData = {
  accountId: 'funding-eur', ownerId: 'platform', kind: 'funding', currency: 'EUR', allowNegativeBalance: true,
};

const NOW = new Date('2026-11-26T10:00:00.000Z');

const opened = (account: OpenAccountData): AccountEvent => ({ type: 'AccountOpened', data: account });
const credited = (transferId: string, amountMinor: bigint | number): AccountEvent =>
  ({ type: 'AccountCredited', data: { transferId, amountMinor: String(amountMinor) } });
const debited = (transferId: string, amountMinor: bigint | number): AccountEvent =>
  ({ type: 'AccountDebited', data: { transferId, amountMinor: String(amountMinor) } });
const fundsHeld = (holdId: string, amountMinor: bigint | number): AccountEvent =>
  ({ type: 'AccountFundsHeld', data: { holdId, amountMinor: String(amountMinor) } });
const holdCaptured = (holdId: string, amountMinor: bigint | number): AccountEvent =>
  ({ type: 'AccountHoldCaptured', data: { holdId, amountMinor: String(amountMinor) } });

function stateAfter(events: AccountEvent[]): AccountState {
  return events.reduce(evolveAccount, initialAccountState());
}

function openStateAfter(events: AccountEvent[]): ExistingAccountState {
  const state = stateAfter(events);
  if (state.status === 'unopened') throw new Error('expected an opened account');
  return state;
}

function balances(posted: bigint | number, pending: bigint | number, available: bigint | number, currency = 'EUR'): WireBalances {
  return { currency, postedMinor: String(posted), pendingMinor: String(pending), availableMinor: String(available) };
}

function thrownBy(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`expected an Error, got ${String(error)}`);
  }
  throw new Error('expected the action to throw');
}

function accountEventsOf(result: LedgerResult): AccountEvent[] {
  return result.events.flatMap((ledgerEvent) => (ledgerEvent.category === 'account' ? [ledgerEvent.event] : []));
}

/**
 * given(the account's events).when(OpenAccount), decided by decideLedger on a ledger holding just that
 * account, .thenAccepted(events to append) / .thenReplayed() / .thenRejected(reason code) / .thenThrows(message).
 */
function given(events: AccountEvent[]) {
  return {
    when: (command: OpenAccountData) => {
      const ledger = { ...initialLedgerState(), accounts: new Map([[command.accountId, stateAfter(events)]]) };
      const decide = () => decideLedger({ type: 'OpenAccount', data: command }, ledger, NOW);
      return {
        thenAccepted: (expected: AccountEvent[]) => {
          const result = decide();
          expect(result.status).toBe('accepted');
          expect(accountEventsOf(result)).toEqual(expected);
        },
        thenReplayed: () => {
          const result = decide();
          expect({ status: result.status, events: result.events }).toEqual({ status: 'replayed', events: [] });
          expect(result.state).toBe(ledger);
        },
        thenRejected: (reasonCode: LedgerRejectionCode) => {
          const result = decide();
          expect({ status: result.status, reasonCode: result.reasonCode, events: result.events }).toEqual({ status: 'rejected', reasonCode, events: [] });
          expect(result.state).toEqual(ledger);
        },
        thenThrows: (message: string) => {
          const error = thrownBy(decide);
          expect(error).toBeInstanceOf(LedgerDomainError);
          expect(error.name).toBe('LedgerDomainError');
          expect(error.message).toBe(message);
        },
      };
    },
  };
}

describe('account', () => {
  it('lists exactly the account event types', () => {
    expect([...ACCOUNT_EVENT_TYPES].sort()).toEqual([
      'AccountClosed', 'AccountCredited', 'AccountDebited', 'AccountFrozen', 'AccountFundsHeld', 'AccountHoldCaptured', 'AccountHoldReleased',
      'AccountModified', 'AccountOpened', 'AccountUnfrozen', 'BalanceMonitorRegistered', 'BalanceThresholdCrossed',
    ]);
  });

  describe('when unopened', () => {
    it('starts unopened', () => {
      expect(initialAccountState()).toEqual({ status: 'unopened' });
    });

    it('OpenAccount opens it, writing allowNegativeBalance: false out as debitsMustNotExceedCredits', () => {
      given([]).when(wallet).thenAccepted([{ type: 'AccountOpened', data: {
        accountId: 'wallet-1', ownerId: 'customer-1', kind: 'customer_wallet', currency: 'EUR',
        debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false, overdraftLimitMinor: '0', creditLimitMinor: '0', metadata: {},
      } }]);
    });

    it('OpenAccount opens an account that may go negative (no balance flag)', () => {
      given([]).when(funding).thenAccepted([opened(openedAccountData(accountTermsOf({ ...funding })))]);
      expect(accountTermsOf(funding)).toMatchObject({ debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false });
    });

    it('OpenAccount without any flag may not overdraw: the safe default', () => {
      const { allowNegativeBalance: _dropped, ...bare } = wallet;
      expect(accountTermsOf(bare)).toMatchObject({ debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false });
    });

    it.each<[string, Partial<OpenAccountData>, string]>([
      ['both balance flags', { allowNegativeBalance: undefined, debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: true }, 'debitsMustNotExceedCredits and creditsMustNotExceedDebits exclude each other'],
      ['allowNegativeBalance against the flags', { allowNegativeBalance: true, debitsMustNotExceedCredits: true }, 'allowNegativeBalance true contradicts the balance flags'],
      ['an overdraft without debitsMustNotExceedCredits', { allowNegativeBalance: true, overdraftLimitMinor: '100' }, 'an overdraft limit needs debitsMustNotExceedCredits'],
      ['a credit limit without creditsMustNotExceedDebits', { creditLimitMinor: '100' }, 'a credit limit needs creditsMustNotExceedDebits'],
      ['too much metadata', { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`key${index}`, 'v'])) }, 'at most 16 metadata entries'],
    ])('OpenAccount with %s is refused as bad input', (_case, change, reason) => {
      given([]).when({ ...wallet, ...change }).thenThrows(`cannot open account 'wallet-1': ${reason}`);
    });

    it.each([
      ['AccountCredited', credited('t-1', 100)],
      ['AccountDebited', debited('t-1', 100)],
      ['AccountFundsHeld', fundsHeld('h-1', 100)],
      ['AccountHoldCaptured', holdCaptured('h-1', 100)],
    ])('evolve ignores %s before AccountOpened instead of throwing', (_type, event) => {
      expect(stateAfter([event])).toEqual({ status: 'unopened' });
    });
  });

  describe('when open', () => {
    it('AccountOpened gives zero balances, no holds and the account terms', () => {
      const state = openStateAfter([opened(wallet)]);
      expect(state).toEqual({ status: 'open', ...accountTermsOf(wallet), postedMinor: 0n, pendingMinor: 0n, holds: new Map(), monitors: new Map() });
      expect(balancesOf(state)).toEqual(balances(0, 0, 0));
    });

    it('OpenAccount with the same terms is a retry: nothing to append', () => {
      given([opened(wallet)]).when(wallet).thenReplayed();
      given([opened(openedAccountData(accountTermsOf(wallet)))]).when(wallet).thenReplayed();
    });

    it('OpenAccount with the same terms after money moved is still a retry and keeps the balances', () => {
      const history = [opened(wallet), credited('t-1', 1000), fundsHeld('h-1', 300)];
      given(history).when({ ...wallet }).thenReplayed();
      expect(balancesOf(openStateAfter(history))).toEqual(balances(1000, 300, 700));
    });

    it.each<[string, Partial<OpenAccountData>]>([
      ['another owner', { ownerId: 'customer-2' }],
      ['another kind', { kind: 'merchant' }],
      ['another currency', { currency: 'USD' }],
      ['another negative-balance policy', { allowNegativeBalance: true }],
    ])('OpenAccount with %s is refused with account_already_exists', (_difference, change) => {
      given([opened(wallet)]).when({ ...wallet, ...change }).thenRejected('account_already_exists');
    });
  });

  describe('balances after each event', () => {
    // One history, checked after every event: posted = credits - debits - captures, pending = open holds.
    const history: [AccountEvent, WireBalances][] = [
      [opened(wallet), balances(0, 0, 0)],
      [credited('t-1', 1000), balances(1000, 0, 1000)],
      [debited('t-2', 300), balances(700, 0, 700)],
      [fundsHeld('h-1', 400), balances(700, 400, 300)],
      [fundsHeld('h-2', 100), balances(700, 500, 200)],
      [holdCaptured('h-1', 400), balances(300, 100, 200)],
      [credited('t-3', 50), balances(350, 100, 250)],
      [holdCaptured('h-2', 100), balances(250, 0, 250)],
    ];

    it.each(history.map(([event, expected], index) => [index + 1, event.type, expected, history.slice(0, index + 1).map(([e]) => e)] as const))(
      'after event %i (%s)', (_position, _type, expected, events) => {
        const state = openStateAfter([...events]);
        expect(balancesOf(state)).toEqual(expected);
        expect(state.pendingMinor).toBe([...state.holds.values()].reduce((sum, hold) => sum + hold.amountMinor, 0n));
      },
    );

    it('tracks the open holds by id and forgets a captured one', () => {
      const state = openStateAfter([opened(wallet), credited('t-1', 1000), fundsHeld('h-1', 400), fundsHeld('h-2', 100), holdCaptured('h-1', 400)]);
      expect(state.holds).toEqual(new Map([['h-2', { amountMinor: 100n }]]));
    });

    it('an account allowed to go negative reports negative posted and available balances', () => {
      const state = openStateAfter([opened(funding), debited('t-1', 5000), fundsHeld('h-1', 250)]);
      expect(balancesOf(state)).toEqual(balances(-5000, 250, -5250));
      expect(availableMinor(state)).toBe(-5250n);
    });

    it('keeps amounts beyond Number.MAX_SAFE_INTEGER exact', () => {
      const large = 10n ** 30n + 7n;
      const state = openStateAfter([opened(wallet), credited('t-1', large), fundsHeld('h-1', 1n)]);
      expect(balancesOf(state)).toEqual(balances(large, 1n, large - 1n));
    });

    it('a capture of a hold the account does not know lowers posted only (evolve never throws)', () => {
      const state = openStateAfter([opened(wallet), credited('t-1', 1000), fundsHeld('h-1', 400), holdCaptured('h-unknown', 100)]);
      expect(balancesOf(state)).toEqual(balances(900, 400, 500));
    });

    it('evolve returns a new state and leaves the previous one untouched', () => {
      const before = openStateAfter([opened(wallet), credited('t-1', 1000), fundsHeld('h-1', 400)]);
      const after = evolveAccount(before, holdCaptured('h-1', 400));
      expect(after).not.toBe(before);
      expect(before.holds).toEqual(new Map([['h-1', { amountMinor: 400n }]]));
      expect(before.postedMinor).toBe(1000n);
      expect(before.pendingMinor).toBe(400n);
    });
  });

  describe('canGive', () => {
    const funded = openStateAfter([opened(wallet), credited('t-1', 1000), fundsHeld('h-1', 400)]);

    it('allows a debit or hold up to the available balance, holds included', () => {
      expect(canGive(funded, 599n)).toBe(true);
      expect(canGive(funded, 600n)).toBe(true);
      expect(canGive(funded, 601n)).toBe(false);
    });

    it('allows anything on an account that may go negative', () => {
      const empty = openStateAfter([opened(funding)]);
      expect(canGive(empty, 1n)).toBe(true);
      expect(canGive(empty, 10n ** 30n)).toBe(true);
    });
  });
});
