// Proves the per-stream decisions apps/ledger uses: transfers, holds and captures (full and partial) post balanced entries with the right balances, and every refusal carries its reason code and the balances, and changes nothing.
import type {
  CaptureHoldData, LedgerRejectionCode, OpenAccountData, PlaceHoldData, PostTransferData, WireBalances,
} from '@clearline/contracts';
import { balancesOf, evolveAccount, initialAccountState, type AccountEvent, type AccountState } from './account.js';
import {
  decideCaptureHold, decidePlaceHold, decidePostTransfer,
  type CaptureOutcome, type HoldOutcome, type LedgerDecision, type TransferOutcome,
} from './ledger-decisions.js';

// Identifiers: transfer, hold and payment ids are UUIDs on the wire; account ids are identifiers.
const TRANSFER_ID = '7f1d3c8e-2b4a-5c6d-8e9f-0a1b2c3d4e5f';
const HOLD_ID = '1a2b3c4d-5e6f-5a7b-8c9d-0e1f2a3b4c5d';
const OTHER_HOLD_ID = '9e8d7c6b-5a4f-5e3d-9c2b-1a0f9e8d7c6b';
const PAYMENT_ID = '3c4d5e6f-7a8b-5c9d-a0e1-f2a3b4c5d6e7';
const NOW = new Date('2026-11-26T10:00:00.000Z');

const wallet: OpenAccountData = { accountId: 'wallet-1', ownerId: 'customer-1', kind: 'customer_wallet', currency: 'EUR', allowNegativeBalance: false };
const otherWallet: OpenAccountData = { accountId: 'wallet-2', ownerId: 'customer-2', kind: 'customer_wallet', currency: 'EUR', allowNegativeBalance: false };
const merchant: OpenAccountData = { accountId: 'merchant-1', ownerId: 'merchant-1', kind: 'merchant', currency: 'EUR', allowNegativeBalance: false };
const funding: OpenAccountData = { accountId: 'funding-eur', ownerId: 'platform', kind: 'funding', currency: 'EUR', allowNegativeBalance: true };
const dollarWallet: OpenAccountData = { accountId: 'wallet-usd', ownerId: 'customer-1', kind: 'customer_wallet', currency: 'USD', allowNegativeBalance: false };

type Amount = bigint | number;

const opened = (account: OpenAccountData): AccountEvent => ({ type: 'AccountOpened', data: account });
const credited = (transferId: string, amountMinor: Amount): AccountEvent => ({ type: 'AccountCredited', data: { transferId, amountMinor: String(amountMinor) } });
const debited = (transferId: string, amountMinor: Amount): AccountEvent => ({ type: 'AccountDebited', data: { transferId, amountMinor: String(amountMinor) } });
const fundsHeld = (holdId: string, amountMinor: Amount): AccountEvent => ({ type: 'AccountFundsHeld', data: { holdId, amountMinor: String(amountMinor) } });
const holdCaptured = (holdId: string, amountMinor: Amount): AccountEvent => ({ type: 'AccountHoldCaptured', data: { holdId, amountMinor: String(amountMinor) } });
const holdReleased = (holdId: string, amountMinor: Amount): AccountEvent => ({ type: 'AccountHoldReleased', data: { holdId, amountMinor: String(amountMinor) } });

type LedgerCommand =
  | { type: 'PostTransfer'; data: PostTransferData }
  | { type: 'PlaceHold'; data: PlaceHoldData }
  | { type: 'CaptureHold'; data: CaptureHoldData };
type Outcome = TransferOutcome | HoldOutcome | CaptureOutcome;
type History = Record<string, AccountEvent[]>;

const postTransfer = (debitAccountId: string, creditAccountId: string, amountMinor: Amount, currency = 'EUR'): Extract<LedgerCommand, { type: 'PostTransfer' }> => ({
  type: 'PostTransfer',
  data: { transferId: TRANSFER_ID, debitAccountId, creditAccountId, amount: { amountMinor: String(amountMinor), currency } },
});
const placeHold = (accountId: string, amountMinor: Amount, currency = 'EUR', holdId = HOLD_ID): Extract<LedgerCommand, { type: 'PlaceHold' }> => ({
  type: 'PlaceHold',
  data: { holdId, accountId, amount: { amountMinor: String(amountMinor), currency }, paymentId: PAYMENT_ID },
});
const captureHold = (accountId: string, creditAccountId: string, amountMinor: Amount, currency = 'EUR', holdId = HOLD_ID): Extract<LedgerCommand, { type: 'CaptureHold' }> => ({
  type: 'CaptureHold',
  data: { holdId, accountId, creditAccountId, amount: { amountMinor: String(amountMinor), currency }, paymentId: PAYMENT_ID },
});

function balances(posted: Amount, pending: Amount, available: Amount, currency = 'EUR'): WireBalances {
  return { currency, postedMinor: String(posted), pendingMinor: String(pending), availableMinor: String(available) };
}

function stateOf(history: History, accountId: string, appended: AccountEvent[] = []): AccountState {
  return [...(history[accountId] ?? []), ...appended].reduce(evolveAccount, initialAccountState());
}

function decide(command: LedgerCommand, history: History): LedgerDecision<Outcome> {
  switch (command.type) {
    case 'PostTransfer':
      return decidePostTransfer(command.data, stateOf(history, command.data.debitAccountId), stateOf(history, command.data.creditAccountId));
    case 'PlaceHold':
      return decidePlaceHold(command.data, stateOf(history, command.data.accountId), NOW);
    case 'CaptureHold':
      return decideCaptureHold(command.data, stateOf(history, command.data.accountId), stateOf(history, command.data.creditAccountId), NOW);
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

const REJECTION_TYPE = { PostTransfer: 'TransferRejected', PlaceHold: 'HoldRejected', CaptureHold: 'CaptureRejected' } as const;

/** The balances an outcome reports, keyed by the account they belong to. */
function reportedBalances(outcome: Outcome): [string, WireBalances][] {
  switch (outcome.type) {
    case 'TransferPosted':
      return [[outcome.data.debitAccountId, outcome.data.debitBalances], [outcome.data.creditAccountId, outcome.data.creditBalances]];
    case 'HoldPlaced':
      return [[outcome.data.accountId, outcome.data.balances]];
    case 'HoldCaptured':
      return [[outcome.data.accountId, outcome.data.debitBalances], [outcome.data.creditAccountId, outcome.data.creditBalances]];
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

/** Debits (AccountDebited, AccountHoldCaptured) and credits (AccountCredited) over all account streams. */
function entryTotals(decision: LedgerDecision<Outcome>): { debitedMinor: bigint; creditedMinor: bigint } {
  let debitedMinor = 0n;
  let creditedMinor = 0n;
  for (const events of decision.accountEvents.values()) {
    for (const event of events) {
      if (event.type === 'AccountDebited' || event.type === 'AccountHoldCaptured') debitedMinor += BigInt(event.data.amountMinor);
      if (event.type === 'AccountCredited') creditedMinor += BigInt(event.data.amountMinor);
    }
  }
  return { debitedMinor, creditedMinor };
}

/**
 * given(account streams).when(ledger command).then(outcome, account events) or .thenRejected(reason code).
 * Every accepted decision is also checked against replay: the balances it reports are those the
 * account streams hold once its events are appended.
 */
function given(history: History) {
  return {
    when: (command: LedgerCommand) => {
      const decision = decide(command, history);
      return {
        decision,
        then: (outcome: Outcome, accountEvents: History) => {
          expect(decision.outcome).toEqual(outcome);
          expect(Object.fromEntries(decision.accountEvents)).toEqual(accountEvents);
          for (const [accountId, reported] of reportedBalances(decision.outcome)) {
            const replayed = stateOf(history, accountId, decision.accountEvents.get(accountId));
            if (replayed.status !== 'open') throw new Error(`account '${accountId}' is not open after the decision`);
            expect(balancesOf(replayed)).toEqual(reported);
          }
        },
        thenRejected: (reasonCode: LedgerRejectionCode) => {
          const existing = Object.keys(history).filter((accountId) => stateOf(history, accountId).status !== 'unopened');
          const balancesAfter = Object.fromEntries(existing
            .filter((accountId) => Object.values(command.data).includes(accountId))
            .map((accountId) => { const state = stateOf(history, accountId); return [accountId, state.status === 'unopened' ? undefined : balancesOf(state)]; }));
          expect(decision.outcome).toEqual({ type: REJECTION_TYPE[command.type], data: { ...command.data, reasonCode, balancesAfter } });
          expect(decision.accountEvents.size).toBe(0);
        },
      };
    },
  };
}

describe('PostTransfer', () => {
  describe('when both accounts are open in the transfer currency', () => {
    const history: History = { 'wallet-1': [opened(wallet), credited('t-0', 1000)], 'merchant-1': [opened(merchant)] };

    it('debits one account and credits the other by the amount', () => {
      const command = postTransfer('wallet-1', 'merchant-1', 300);
      given(history).when(command).then(
        { type: 'TransferPosted', data: { ...command.data, debitBalances: balances(700, 0, 700), creditBalances: balances(300, 0, 300) } },
        { 'wallet-1': [debited(TRANSFER_ID, 300)], 'merchant-1': [credited(TRANSFER_ID, 300)] },
      );
    });

    it('may take the whole available balance, down to zero', () => {
      const command = postTransfer('wallet-1', 'merchant-1', 1000);
      given(history).when(command).then(
        { type: 'TransferPosted', data: { ...command.data, debitBalances: balances(0, 0, 0), creditBalances: balances(1000, 0, 1000) } },
        { 'wallet-1': [debited(TRANSFER_ID, 1000)], 'merchant-1': [credited(TRANSFER_ID, 1000)] },
      );
    });

    it('rejects one minor unit more than available with insufficient_funds', () => {
      given(history).when(postTransfer('wallet-1', 'merchant-1', 1001)).thenRejected('insufficient_funds');
    });

    it('rejects any amount from an empty account with insufficient_funds', () => {
      given(history).when(postTransfer('merchant-1', 'wallet-1', 1)).thenRejected('insufficient_funds');
    });

    it('keeps amounts beyond Number.MAX_SAFE_INTEGER exact', () => {
      const large = 10n ** 30n;
      const command = postTransfer('wallet-1', 'merchant-1', large - 1n);
      given({ 'wallet-1': [opened(wallet), credited('t-0', large)], 'merchant-1': [opened(merchant)] }).when(command).then(
        { type: 'TransferPosted', data: { ...command.data, debitBalances: balances(1, 0, 1), creditBalances: balances(large - 1n, 0, large - 1n) } },
        { 'wallet-1': [debited(TRANSFER_ID, large - 1n)], 'merchant-1': [credited(TRANSFER_ID, large - 1n)] },
      );
    });
  });

  describe('when the debit account has open holds', () => {
    const history: History = { 'wallet-1': [opened(wallet), credited('t-0', 1000), fundsHeld(HOLD_ID, 800)], 'merchant-1': [opened(merchant)] };

    it('may move only what the holds leave available', () => {
      const command = postTransfer('wallet-1', 'merchant-1', 200);
      given(history).when(command).then(
        { type: 'TransferPosted', data: { ...command.data, debitBalances: balances(800, 800, 0), creditBalances: balances(200, 0, 200) } },
        { 'wallet-1': [debited(TRANSFER_ID, 200)], 'merchant-1': [credited(TRANSFER_ID, 200)] },
      );
    });

    it('rejects more than available (though not more than posted) with insufficient_funds', () => {
      given(history).when(postTransfer('wallet-1', 'merchant-1', 201)).thenRejected('insufficient_funds');
    });
  });

  describe('when the debit account allows a negative balance', () => {
    it('lets it go below zero', () => {
      const command = postTransfer('funding-eur', 'wallet-1', 5000);
      given({ 'funding-eur': [opened(funding)], 'wallet-1': [opened(wallet)] }).when(command).then(
        { type: 'TransferPosted', data: { ...command.data, debitBalances: balances(-5000, 0, -5000), creditBalances: balances(5000, 0, 5000) } },
        { 'funding-eur': [debited(TRANSFER_ID, 5000)], 'wallet-1': [credited(TRANSFER_ID, 5000)] },
      );
    });

    it('lets it go further below zero', () => {
      const command = postTransfer('funding-eur', 'wallet-1', 1);
      given({ 'funding-eur': [opened(funding), debited('t-0', 5000)], 'wallet-1': [opened(wallet), credited('t-0', 5000)] }).when(command).then(
        { type: 'TransferPosted', data: { ...command.data, debitBalances: balances(-5001, 0, -5001), creditBalances: balances(5001, 0, 5001) } },
        { 'funding-eur': [debited(TRANSFER_ID, 1)], 'wallet-1': [credited(TRANSFER_ID, 1)] },
      );
    });
  });

  describe('when an account is not open', () => {
    it.each([
      ['the debit account is', { 'merchant-1': [opened(merchant)] }],
      ['the credit account is', { 'wallet-1': [opened(wallet), credited('t-0', 1000)] }],
      ['both accounts are', {}],
    ])('rejects with account_not_found when %s unopened', (_which, history: History) => {
      given(history).when(postTransfer('wallet-1', 'merchant-1', 100)).thenRejected('account_not_found');
    });
  });

  describe('when currencies differ', () => {
    it('rejects a transfer in another currency than both accounts with currency_mismatch', () => {
      given({ 'wallet-1': [opened(wallet), credited('t-0', 1000)], 'merchant-1': [opened(merchant)] })
        .when(postTransfer('wallet-1', 'merchant-1', 100, 'USD')).thenRejected('currency_mismatch');
    });

    it('rejects a transfer between accounts in different currencies with currency_mismatch', () => {
      given({ 'wallet-1': [opened(wallet), credited('t-0', 1000)], 'wallet-usd': [opened(dollarWallet)] })
        .when(postTransfer('wallet-1', 'wallet-usd', 100, 'EUR')).thenRejected('currency_mismatch');
    });

    it('reports currency_mismatch before insufficient_funds', () => {
      given({ 'wallet-1': [opened(wallet)], 'wallet-usd': [opened(dollarWallet)] })
        .when(postTransfer('wallet-usd', 'wallet-1', 100, 'USD')).thenRejected('currency_mismatch');
    });
  });

  describe('when both sides are the same account', () => {
    it('rejects with same_account', () => {
      given({ 'wallet-1': [opened(wallet), credited('t-0', 1000)] }).when(postTransfer('wallet-1', 'wallet-1', 100)).thenRejected('same_account');
    });

    it('reports same_account before account_not_found', () => {
      given({}).when(postTransfer('wallet-1', 'wallet-1', 100)).thenRejected('same_account');
    });
  });
});

describe('PlaceHold', () => {
  describe('when the account is open with funds', () => {
    const history: History = { 'wallet-1': [opened(wallet), credited('t-0', 1000)] };

    it('holds the amount: pending rises, available falls, posted stays', () => {
      const command = placeHold('wallet-1', 400);
      given(history).when(command).then(
        { type: 'HoldPlaced', data: { ...command.data, balances: balances(1000, 400, 600) } },
        { 'wallet-1': [fundsHeld(HOLD_ID, 400)] },
      );
    });

    it('may hold the whole available balance', () => {
      const command = placeHold('wallet-1', 1000);
      given(history).when(command).then(
        { type: 'HoldPlaced', data: { ...command.data, balances: balances(1000, 1000, 0) } },
        { 'wallet-1': [fundsHeld(HOLD_ID, 1000)] },
      );
    });

    it('rejects one minor unit more than available with insufficient_funds', () => {
      given(history).when(placeHold('wallet-1', 1001)).thenRejected('insufficient_funds');
    });

    it('rejects a hold in another currency with currency_mismatch', () => {
      given(history).when(placeHold('wallet-1', 100, 'USD')).thenRejected('currency_mismatch');
    });
  });

  describe('when the account already has an open hold', () => {
    const history: History = { 'wallet-1': [opened(wallet), credited('t-0', 1000), fundsHeld(OTHER_HOLD_ID, 700)] };

    it('stacks a second hold on the first', () => {
      const command = placeHold('wallet-1', 300);
      given(history).when(command).then(
        { type: 'HoldPlaced', data: { ...command.data, balances: balances(1000, 1000, 0) } },
        { 'wallet-1': [fundsHeld(HOLD_ID, 300)] },
      );
    });

    it('rejects what the first hold leaves unavailable with insufficient_funds', () => {
      given(history).when(placeHold('wallet-1', 301)).thenRejected('insufficient_funds');
    });

    it('rejects a PlaceHold that reuses the id of an open hold with duplicate_hold_id, keeping pending equal to the open holds', () => {
      given(history).when(placeHold('wallet-1', 100, 'EUR', OTHER_HOLD_ID)).thenRejected('duplicate_hold_id');
    });
  });

  describe('when the account allows a negative balance', () => {
    it('holds beyond zero', () => {
      const command = placeHold('funding-eur', 500);
      given({ 'funding-eur': [opened(funding)] }).when(command).then(
        { type: 'HoldPlaced', data: { ...command.data, balances: balances(0, 500, -500) } },
        { 'funding-eur': [fundsHeld(HOLD_ID, 500)] },
      );
    });
  });

  describe('when the account is unopened', () => {
    it('rejects with account_not_found', () => {
      given({}).when(placeHold('wallet-1', 100)).thenRejected('account_not_found');
    });

    it('reports account_not_found when money events were recorded without AccountOpened', () => {
      given({ 'wallet-1': [credited('t-0', 1000)] }).when(placeHold('wallet-1', 100)).thenRejected('account_not_found');
    });
  });
});

describe('CaptureHold', () => {
  describe('when the hold is open', () => {
    const history: History = {
      'wallet-1': [opened(wallet), credited('t-0', 1000), fundsHeld(HOLD_ID, 400)],
      'merchant-1': [opened(merchant), credited('t-1', 50)],
    };

    it('debits the held account, releases the hold and credits the receiving account', () => {
      const command = captureHold('wallet-1', 'merchant-1', 400);
      given(history).when(command).then(
        { type: 'HoldCaptured', data: { ...command.data, debitBalances: balances(600, 0, 600), creditBalances: balances(450, 0, 450) } },
        { 'wallet-1': [holdCaptured(HOLD_ID, 400)], 'merchant-1': [credited(HOLD_ID, 400)] },
      );
    });

    it('captures part of the hold and releases the rest to available', () => {
      const command = captureHold('wallet-1', 'merchant-1', 150);
      given(history).when(command).then(
        { type: 'HoldCaptured', data: { ...command.data, debitBalances: balances(850, 0, 850), creditBalances: balances(200, 0, 200), releasedAmountMinor: '250' } },
        { 'wallet-1': [holdCaptured(HOLD_ID, 150), holdReleased(HOLD_ID, 250)], 'merchant-1': [credited(HOLD_ID, 150)] },
      );
    });

    it('rejects a capture above the hold with amount_exceeds_hold', () => {
      given(history).when(captureHold('wallet-1', 'merchant-1', 401)).thenRejected('amount_exceeds_hold');
    });

    it('rejects a capture into the held account itself with same_account', () => {
      given(history).when(captureHold('wallet-1', 'wallet-1', 400)).thenRejected('same_account');
    });

    it('rejects a capture into an unopened account with account_not_found', () => {
      given(history).when(captureHold('wallet-1', 'merchant-2', 400)).thenRejected('account_not_found');
    });

    it('rejects a capture into an account in another currency with currency_mismatch', () => {
      given({ ...history, 'wallet-usd': [opened(dollarWallet)] }).when(captureHold('wallet-1', 'wallet-usd', 400)).thenRejected('currency_mismatch');
    });

    it('rejects a capture in another currency than the hold with currency_mismatch', () => {
      given(history).when(captureHold('wallet-1', 'merchant-1', 400, 'USD')).thenRejected('currency_mismatch');
    });

    it('rejects a capture of an unknown hold id with hold_not_found', () => {
      given(history).when(captureHold('wallet-1', 'merchant-1', 400, 'EUR', OTHER_HOLD_ID)).thenRejected('hold_not_found');
    });
  });

  describe('when the hold took the whole balance and the account has nothing available', () => {
    it('captures anyway: the funds were reserved when the hold was placed', () => {
      const history: History = { 'wallet-1': [opened(wallet), credited('t-0', 400), fundsHeld(HOLD_ID, 400)], 'merchant-1': [opened(merchant)] };
      const command = captureHold('wallet-1', 'merchant-1', 400);
      given(history).when(command).then(
        { type: 'HoldCaptured', data: { ...command.data, debitBalances: balances(0, 0, 0), creditBalances: balances(400, 0, 400) } },
        { 'wallet-1': [holdCaptured(HOLD_ID, 400)], 'merchant-1': [credited(HOLD_ID, 400)] },
      );
    });
  });

  describe('when the account has two open holds', () => {
    it('captures one and leaves the other pending', () => {
      const history: History = {
        'wallet-1': [opened(wallet), credited('t-0', 1000), fundsHeld(OTHER_HOLD_ID, 100), fundsHeld(HOLD_ID, 400)],
        'merchant-1': [opened(merchant)],
      };
      const command = captureHold('wallet-1', 'merchant-1', 400);
      given(history).when(command).then(
        { type: 'HoldCaptured', data: { ...command.data, debitBalances: balances(600, 100, 500), creditBalances: balances(400, 0, 400) } },
        { 'wallet-1': [holdCaptured(HOLD_ID, 400)], 'merchant-1': [credited(HOLD_ID, 400)] },
      );
    });
  });

  describe('when the hold was already captured', () => {
    it('rejects a second capture with hold_not_found', () => {
      given({
        'wallet-1': [opened(wallet), credited('t-0', 1000), fundsHeld(HOLD_ID, 400), holdCaptured(HOLD_ID, 400)],
        'merchant-1': [opened(merchant), credited(HOLD_ID, 400)],
      }).when(captureHold('wallet-1', 'merchant-1', 400)).thenRejected('hold_not_found');
    });
  });

  describe('when the hold is on another account', () => {
    it('rejects with hold_not_found', () => {
      given({
        'wallet-1': [opened(wallet), credited('t-0', 1000)],
        'wallet-2': [opened(otherWallet), credited('t-1', 1000), fundsHeld(HOLD_ID, 400)],
        'merchant-1': [opened(merchant)],
      }).when(captureHold('wallet-1', 'merchant-1', 400)).thenRejected('hold_not_found');
    });
  });

  describe('when the held account is unopened', () => {
    it('rejects with account_not_found', () => {
      given({ 'merchant-1': [opened(merchant)] }).when(captureHold('wallet-1', 'merchant-1', 400)).thenRejected('account_not_found');
    });

    it('reports same_account before account_not_found', () => {
      given({}).when(captureHold('wallet-1', 'wallet-1', 400)).thenRejected('same_account');
    });
  });
});

describe('double entry', () => {
  // Every posting decision: the amounts debited across account streams equal the amounts credited,
  // and the sum of the posted balances of the accounts it touches does not change.
  const postings: [string, History, LedgerCommand][] = [
    ['a transfer between wallets', { 'wallet-1': [opened(wallet), credited('t-0', 1000)], 'wallet-2': [opened(otherWallet)] }, postTransfer('wallet-1', 'wallet-2', 1000)],
    ['a transfer from funding below zero', { 'funding-eur': [opened(funding)], 'wallet-1': [opened(wallet)] }, postTransfer('funding-eur', 'wallet-1', 123_456)],
    ['a transfer around an open hold', { 'wallet-1': [opened(wallet), credited('t-0', 1000), fundsHeld(HOLD_ID, 600)], 'merchant-1': [opened(merchant)] }, postTransfer('wallet-1', 'merchant-1', 400)],
    ['a capture of a hold', { 'wallet-1': [opened(wallet), credited('t-0', 1000), fundsHeld(HOLD_ID, 999)], 'merchant-1': [opened(merchant)] }, captureHold('wallet-1', 'merchant-1', 999)],
    ['a capture from a negative account', { 'funding-eur': [opened(funding), fundsHeld(HOLD_ID, 70)], 'merchant-1': [opened(merchant)] }, captureHold('funding-eur', 'merchant-1', 70)],
  ];

  it.each(postings)('%s debits exactly what it credits and keeps the posted total', (_name, history, command) => {
    const decision = decide(command, history);
    expect(decision.outcome.type).toMatch(/^(TransferPosted|HoldCaptured)$/);
    const { debitedMinor, creditedMinor } = entryTotals(decision);
    expect(debitedMinor).toBe(BigInt(command.data.amount.amountMinor));
    expect(creditedMinor).toBe(debitedMinor);

    const postedTotal = (appended: ReadonlyMap<string, AccountEvent[]>) => Object.keys(history).reduce((total, accountId) => {
      const state = stateOf(history, accountId, appended.get(accountId));
      return state.status === 'unopened' ? total : total + state.postedMinor;
    }, 0n);
    expect(postedTotal(decision.accountEvents)).toBe(postedTotal(new Map()));
  });

  it('a hold posts nothing: it only moves pending', () => {
    const decision = decide(placeHold('wallet-1', 100), { 'wallet-1': [opened(wallet), credited('t-0', 1000)] });
    expect(entryTotals(decision)).toEqual({ debitedMinor: 0n, creditedMinor: 0n });
  });
});

describe('purity', () => {
  it('a decision leaves the given account states untouched', () => {
    const held = stateOf({ 'wallet-1': [opened(wallet), credited('t-0', 1000), fundsHeld(HOLD_ID, 400)] }, 'wallet-1');
    const receiving = stateOf({ 'merchant-1': [opened(merchant)] }, 'merchant-1');
    const heldBefore = structuredClone(held);
    const receivingBefore = structuredClone(receiving);
    const command = captureHold('wallet-1', 'merchant-1', 400).data;
    decideCaptureHold(command, held, receiving, NOW);
    expect(held).toEqual(heldBefore);
    expect(receiving).toEqual(receivingBefore);
  });
});
