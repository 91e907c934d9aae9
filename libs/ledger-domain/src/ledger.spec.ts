// Proves each decision of the whole-ledger decider (decideLedger) as given / when / then: account
// lifecycle (modify, freeze, close), balance flags and limits, plain transfers and their refusals (in
// the order they are checked), transfer idempotency, linked batches, currency exchange and its
// rounding, reversals and refunds, holds (placing up to what is available, full and partial capture,
// expiry, void), balance monitors, and that a decision leaves the state it was given untouched; each
// with the refusals and bad input that belong to it. Every refusal moves nothing, reports the balances
// from before it, and (for a command with an outcome) says why in an outcome carrying those balances.
import { MAX_MINOR_UNITS, type LedgerRejectionCode, type OpenAccountData, type WireBalances } from '@clearline/contracts';
import type { AccountEvent } from './account.js';
import { decideLedger, type LedgerCommand } from './ledger.js';
import {
  balancesIn, LedgerDomainError, initialLedgerState, type LedgerEvent, type LedgerOutcome, type LedgerResult, type LedgerState,
} from './ledger-state.js';

const NOW = new Date('2026-11-26T10:00:00.000Z');
const LATER = new Date('2026-11-26T10:05:00.000Z');
const IN_A_MINUTE = '2026-11-26T10:01:00.000Z';
const PAYMENT_ID = 'payment-1';

const wallet: OpenAccountData = { accountId: 'wallet-1', ownerId: 'alice', kind: 'customer_wallet', currency: 'EUR' };
const merchant: OpenAccountData = { accountId: 'merchant-1', ownerId: 'acme', kind: 'merchant', currency: 'EUR' };
const fees: OpenAccountData = { accountId: 'fees-eur', ownerId: 'platform', kind: 'fee_revenue', currency: 'EUR' };
const funding: OpenAccountData = { accountId: 'funding-eur', ownerId: 'platform', kind: 'funding', currency: 'EUR', allowNegativeBalance: true };
const card: OpenAccountData = { accountId: 'card-eur', ownerId: 'platform', kind: 'bank_card_funding', currency: 'EUR', creditsMustNotExceedDebits: true };
const overdrawn: OpenAccountData = { ...wallet, accountId: 'wallet-od', overdraftLimitMinor: '500' };
const fxEur: OpenAccountData = { accountId: 'fx-eur', ownerId: 'platform', kind: 'fx', currency: 'EUR', allowNegativeBalance: true };
const fxJpy: OpenAccountData = { accountId: 'fx-jpy', ownerId: 'platform', kind: 'fx', currency: 'JPY', allowNegativeBalance: true };
const walletJpy: OpenAccountData = { accountId: 'wallet-jpy', ownerId: 'alice', kind: 'customer_wallet', currency: 'JPY' };
const otherWallet: OpenAccountData = { ...wallet, accountId: 'wallet-2', ownerId: 'bob' };

const eur = (amountMinor: number | bigint) => ({ amountMinor: String(amountMinor), currency: 'EUR' });
const open = (data: OpenAccountData): LedgerCommand => ({ type: 'OpenAccount', data });
const transfer = (transferId: string, debitAccountId: string, creditAccountId: string, amountMinor: number | bigint, currency = 'EUR'): Extract<LedgerCommand, { type: 'PostTransfer' }> =>
  ({ type: 'PostTransfer', data: { transferId, debitAccountId, creditAccountId, amount: { amountMinor: String(amountMinor), currency } } });
const placeHold = (holdId: string, accountId: string, amountMinor: number, expiresAt?: string): LedgerCommand =>
  ({ type: 'PlaceHold', data: { holdId, accountId, amount: eur(amountMinor), paymentId: PAYMENT_ID, ...(expiresAt ? { expiresAt } : {}) } });
const capture = (holdId: string, amountMinor: number, creditAccountId = 'merchant-1', currency = 'EUR'): Extract<LedgerCommand, { type: 'CaptureHold' }> =>
  ({ type: 'CaptureHold', data: { holdId, accountId: 'wallet-1', creditAccountId, amount: { amountMinor: String(amountMinor), currency }, paymentId: PAYMENT_ID } });
const reverse = (transferId: string, originalTransferId: string, amountMinor: number): LedgerCommand =>
  ({ type: 'ReverseTransfer', data: { transferId, originalTransferId, amount: eur(amountMinor) } });
const funded = (amountMinor: number | bigint = 1000): LedgerCommand[] => [open(funding), open(wallet), open(merchant), open(fees), transfer('t-fund', 'funding-eur', 'wallet-1', amountMinor)];

function balances(posted: number | bigint, pending: number | bigint, available: number | bigint, currency = 'EUR'): WireBalances {
  return { currency, postedMinor: String(posted), pendingMinor: String(pending), availableMinor: String(available) };
}

function accountEvents(result: LedgerResult, accountId: string): AccountEvent[] {
  return result.events.filter((event): event is Extract<LedgerEvent, { category: 'account' }> => event.category === 'account' && event.id === accountId).map(({ event }) => event);
}

/** The outcome a refusal answers with: every command has one. */
const REFUSAL_OUTCOME: Partial<Record<LedgerCommand['type'], LedgerOutcome['type']>> = {
  PostTransfer: 'TransferRejected', PostLinkedTransfers: 'LinkedTransfersRejected', ExchangeCurrency: 'CurrencyExchangeRejected',
  ReverseTransfer: 'TransferReversalRejected', PlaceHold: 'HoldRejected', CaptureHold: 'CaptureRejected',
  OpenAccount: 'AccountCommandRejected', ModifyAccount: 'AccountCommandRejected', FreezeAccount: 'AccountCommandRejected',
  UnfreezeAccount: 'AccountCommandRejected', CloseAccount: 'AccountCommandRejected', RegisterBalanceMonitor: 'AccountCommandRejected',
  VoidHold: 'HoldReleaseRejected', ExpireHold: 'HoldReleaseRejected',
};

/** given(commands that must all be accepted).when(command, now).then... over the whole ledger. */
function given(commands: LedgerCommand[]) {
  const state = commands.reduce<LedgerState>((current, command) => {
    const result = decideLedger(command, current, NOW);
    if (result.status === 'rejected') throw new Error(`given ${command.type} was rejected: ${result.reasonCode ?? ''}`);
    return result.state;
  }, initialLedgerState());
  return givenLedger(state);
}

/** given(a ledger state).when(command, now).then...: for states commands alone do not build (a stream not loaded). */
function givenLedger(state: LedgerState) {
  return {
    state,
    when: (command: LedgerCommand, now = NOW) => {
      const result = decideLedger(command, state, now);
      return {
        result,
        thenAccepted: (expected: Partial<Record<string, WireBalances>> = {}) => {
          expect({ status: result.status, reasonCode: result.reasonCode }).toEqual({ status: 'accepted', reasonCode: undefined });
          expect(Object.fromEntries(result.balances)).toMatchObject(expected);
          return result;
        },
        thenRejected: (reasonCode: LedgerRejectionCode) => {
          expect({ status: result.status, reasonCode: result.reasonCode }).toEqual({ status: 'rejected', reasonCode });
          expect(result.events.filter((event) => event.category === 'account')).toEqual([]);
          expect(result.balances).toEqual(balancesIn(state.accounts, result.balances.keys()));
          expect(result.outcome?.type).toBe(REFUSAL_OUTCOME[command.type]);
          if (result.outcome?.type === 'AccountCommandRejected' || result.outcome?.type === 'HoldReleaseRejected') {
            const { accountId, holdId } = command.data as { accountId: string; holdId?: string };
            const balancesNow = result.balances.get(accountId);
            expect(result.outcome.data).toEqual({
              accountId, ...(holdId === undefined ? {} : { holdId }), command: command.type, reasonCode, ...(balancesNow ? { balances: balancesNow } : {}),
            });
          } else if (result.outcome !== undefined) {
            expect(result.outcome.data).toMatchObject({ ...command.data, reasonCode, balancesAfter: Object.fromEntries(result.balances) });
          }
          return result;
        },
        thenReplayed: () => {
          expect({ status: result.status, events: result.events }).toEqual({ status: 'replayed', events: [] });
          expect(result.state).toBe(state);
          return result;
        },
      };
    },
    whenThrows: (command: LedgerCommand, message: string) => {
      expect(() => decideLedger(command, state, NOW)).toThrow(new LedgerDomainError(message));
    },
  };
}

describe('account lifecycle', () => {
  describe('ModifyAccount', () => {
    it('changes the overdraft limit and replaces the metadata, writing the new terms in full', () => {
      const result = given([open(overdrawn)]).when({ type: 'ModifyAccount', data: { accountId: 'wallet-od', overdraftLimitMinor: '900', metadata: { tier: 'gold' } } }).thenAccepted();
      expect(accountEvents(result, 'wallet-od')).toEqual([{ type: 'AccountModified', data: { accountId: 'wallet-od', overdraftLimitMinor: '900', creditLimitMinor: '0', metadata: { tier: 'gold' } } }]);
    });

    it('is a no-op when nothing changes', () => {
      given([open(overdrawn)]).when({ type: 'ModifyAccount', data: { accountId: 'wallet-od', overdraftLimitMinor: '500' } }).thenReplayed();
    });

    it('refuses to lower a limit below what the account already uses with limit_exceeded', () => {
      given([open(funding), open(overdrawn), transfer('t-1', 'wallet-od', 'funding-eur', 400)])
        .when({ type: 'ModifyAccount', data: { accountId: 'wallet-od', overdraftLimitMinor: '399' } }).thenRejected('limit_exceeded');
    });

    it('refuses an unknown account with account_not_found and a closed one with account_closed', () => {
      given([]).when({ type: 'ModifyAccount', data: { accountId: 'wallet-1', metadata: {} } }).thenRejected('account_not_found');
      given([open(wallet), { type: 'CloseAccount', data: { accountId: 'wallet-1' } }])
        .when({ type: 'ModifyAccount', data: { accountId: 'wallet-1', metadata: {} } }).thenRejected('account_closed');
    });

    it('throws on an overdraft limit for an account without debitsMustNotExceedCredits (bad input)', () => {
      given([open(funding)]).whenThrows({ type: 'ModifyAccount', data: { accountId: 'funding-eur', overdraftLimitMinor: '1' } },
        "cannot modify account 'funding-eur': an overdraft limit needs debitsMustNotExceedCredits");
    });
  });

  describe('FreezeAccount / UnfreezeAccount', () => {
    const frozen = [...funded(), placeHold('h-1', 'wallet-1', 100), { type: 'FreezeAccount', data: { accountId: 'wallet-1' } } as LedgerCommand];

    it('a frozen account neither sends nor receives, holds nor captures', () => {
      given(frozen).when(transfer('t-2', 'wallet-1', 'merchant-1', 1)).thenRejected('account_frozen');
      given(frozen).when(transfer('t-2', 'merchant-1', 'wallet-1', 1)).thenRejected('account_frozen');
      given(frozen).when(placeHold('h-2', 'wallet-1', 1)).thenRejected('account_frozen');
      given(frozen).when(capture('h-1', 100)).thenRejected('account_frozen');
    });

    it('a frozen account may still have a hold voided: that gives money back', () => {
      given(frozen).when({ type: 'VoidHold', data: { holdId: 'h-1', accountId: 'wallet-1' } }).thenAccepted({ 'wallet-1': balances(1000, 0, 1000) });
    });

    it('freezing twice is a no-op; unfreezing lets money move again', () => {
      given(frozen).when({ type: 'FreezeAccount', data: { accountId: 'wallet-1' } }).thenReplayed();
      const unfrozen = given(frozen).when({ type: 'UnfreezeAccount', data: { accountId: 'wallet-1' } }).thenAccepted();
      expect(decideLedger(transfer('t-2', 'wallet-1', 'merchant-1', 1), unfrozen.state, NOW).status).toBe('accepted');
    });

    it('refuses an unknown account with account_not_found', () => {
      given([]).when({ type: 'FreezeAccount', data: { accountId: 'nobody' } }).thenRejected('account_not_found');
      given([]).when({ type: 'UnfreezeAccount', data: { accountId: 'nobody' } }).thenRejected('account_not_found');
    });
  });

  describe('CloseAccount', () => {
    const close: LedgerCommand = { type: 'CloseAccount', data: { accountId: 'wallet-1' } };

    it('closes an empty account; it then refuses transfers with account_closed and keeps its history', () => {
      const closed = given([open(wallet), open(merchant)]).when(close).thenAccepted({ 'wallet-1': balances(0, 0, 0) });
      expect(closed.state.accounts.get('wallet-1')).toMatchObject({ status: 'closed', ownerId: 'alice' });
      given([open(wallet), open(merchant), close]).when(transfer('t-1', 'merchant-1', 'wallet-1', 1)).thenRejected('account_closed');
      given([open(wallet), open(merchant), close]).when(close).thenReplayed();
    });

    it('refuses an account with open holds with account_has_open_holds and one with money with account_has_balance', () => {
      given([...funded(), placeHold('h-1', 'wallet-1', 1000)]).when(close).thenRejected('account_has_open_holds');
      given(funded()).when(close).thenRejected('account_has_balance');
    });
  });
});

describe('balance flags and limits', () => {
  it('debitsMustNotExceedCredits with an overdraft limit may go down to minus the limit and no further', () => {
    const history = [open(funding), open(overdrawn)];
    given(history).when(transfer('t-1', 'wallet-od', 'funding-eur', 500)).thenAccepted({ 'wallet-od': balances(-500, 0, -500) });
    given(history).when(transfer('t-1', 'wallet-od', 'funding-eur', 501)).thenRejected('insufficient_funds');
  });

  it('creditsMustNotExceedDebits refuses a credit beyond its debits with limit_exceeded', () => {
    const history = [open(card), ...funded(), transfer('t-in', 'card-eur', 'wallet-1', 300)];
    given(history).when(transfer('t-1', 'wallet-1', 'card-eur', 300)).thenAccepted({ 'card-eur': balances(0, 0, 0) });
    given(history).when(transfer('t-1', 'wallet-1', 'card-eur', 301)).thenRejected('limit_exceeded');
    given([...history, { type: 'ModifyAccount', data: { accountId: 'card-eur', creditLimitMinor: '1' } }]).when(transfer('t-1', 'wallet-1', 'card-eur', 301))
      .thenAccepted({ 'card-eur': balances(1, 0, 1) });
  });
});

describe('the contracts\' range of balances (31 digits either way)', () => {
  const max = MAX_MINOR_UNITS;
  const unbounded: OpenAccountData = { accountId: 'suspense-eur', ownerId: 'platform', kind: 'suspense', currency: 'EUR', allowNegativeBalance: true };

  it('takes a balance up to the bound and refuses one past it, either way, with limit_exceeded', () => {
    const history = [open(funding), open(unbounded), transfer('t-max', 'funding-eur', 'suspense-eur', max)];
    given(history).when(transfer('t-1', 'suspense-eur', 'funding-eur', max)).thenAccepted({ 'suspense-eur': balances(0, 0, 0), 'funding-eur': balances(0, 0, 0) });
    given(history).when(transfer('t-1', 'funding-eur', 'suspense-eur', 1)).thenRejected('limit_exceeded');
    // The funding account sits at minus the bound: one more debit would pass it.
    given([...history, open(wallet)]).when(transfer('t-1', 'funding-eur', 'wallet-1', 1)).thenRejected('limit_exceeded');
  });

  it('refuses a hold whose pending balance would pass the bound, and a capture whose credit would', () => {
    const hold = (holdId: string, accountId: string, amountMinor: bigint): LedgerCommand =>
      ({ type: 'PlaceHold', data: { holdId, accountId, amount: eur(amountMinor), paymentId: PAYMENT_ID } });
    const holding = [open(funding), open(unbounded), hold('h-max', 'suspense-eur', max)];
    given(holding).when(hold('h-1', 'suspense-eur', 1n)).thenRejected('limit_exceeded');

    // The merchant 999 short of the bound: a capture of 1,000 into it would pass it, one of 999 reaches it.
    const nearlyFull = [open(funding), open(unbounded), open(wallet), open(merchant), transfer('t-max', 'funding-eur', 'suspense-eur', max),
      transfer('t-w', 'suspense-eur', 'wallet-1', 1000), transfer('t-m', 'suspense-eur', 'merchant-1', max - 999n), placeHold('h-1', 'wallet-1', 1000)];
    given(nearlyFull).when(capture('h-1', 1000)).thenRejected('limit_exceeded');
    given(nearlyFull).when(capture('h-1', 999)).thenAccepted({ 'merchant-1': balances(max, 0, max) });
  });

  it('refuses an exchange whose target amount the contracts cannot carry', () => {
    const accounts = [...funded(10n ** 30n), open(fxEur), open(fxJpy), open(walletJpy)];
    const exchange: LedgerCommand = {
      type: 'ExchangeCurrency',
      data: {
        transferId: 'fx-huge', debitAccountId: 'wallet-1', creditAccountId: 'wallet-jpy', fxSourceAccountId: 'fx-eur', fxTargetAccountId: 'fx-jpy',
        amount: eur(10n ** 30n), targetCurrency: 'JPY', rate: { numerator: '17000', denominator: '1' },
      },
    };
    given(accounts).when(exchange).thenRejected('limit_exceeded');
  });
});

describe('PostTransfer', () => {
  describe('when both accounts are open in the transfer currency', () => {
    it('debits one account and credits the other by the amount', () => {
      const command = transfer('t-1', 'wallet-1', 'merchant-1', 300);
      const result = given(funded()).when(command).thenAccepted();
      expect(result.outcome).toEqual({ type: 'TransferPosted', data: { ...command.data, debitBalances: balances(700, 0, 700), creditBalances: balances(300, 0, 300) } });
      expect(accountEvents(result, 'wallet-1')).toEqual([{ type: 'AccountDebited', data: { transferId: 't-1', amountMinor: '300' } }]);
      expect(accountEvents(result, 'merchant-1')).toEqual([{ type: 'AccountCredited', data: { transferId: 't-1', amountMinor: '300' } }]);
    });

    it('may take the whole available balance down to zero, and not one minor unit more (insufficient_funds)', () => {
      given(funded()).when(transfer('t-1', 'wallet-1', 'merchant-1', 1000)).thenAccepted({ 'wallet-1': balances(0, 0, 0), 'merchant-1': balances(1000, 0, 1000) });
      given(funded()).when(transfer('t-1', 'wallet-1', 'merchant-1', 1001)).thenRejected('insufficient_funds');
      given(funded()).when(transfer('t-1', 'merchant-1', 'wallet-1', 1)).thenRejected('insufficient_funds');
    });

    it('keeps amounts beyond Number.MAX_SAFE_INTEGER exact', () => {
      const large = 10n ** 30n;
      const result = given(funded(large)).when(transfer('t-1', 'wallet-1', 'merchant-1', large - 1n))
        .thenAccepted({ 'wallet-1': balances(1, 0, 1), 'merchant-1': balances(large - 1n, 0, large - 1n) });
      expect(accountEvents(result, 'merchant-1')).toEqual([{ type: 'AccountCredited', data: { transferId: 't-1', amountMinor: String(large - 1n) } }]);
    });
  });

  describe('when the debit account has open holds', () => {
    const held = [...funded(), placeHold('h-1', 'wallet-1', 800)];

    it('may move only what the holds leave available, though posted is more (insufficient_funds)', () => {
      given(held).when(transfer('t-1', 'wallet-1', 'merchant-1', 200)).thenAccepted({ 'wallet-1': balances(800, 800, 0) });
      given(held).when(transfer('t-1', 'wallet-1', 'merchant-1', 201)).thenRejected('insufficient_funds');
    });
  });

  describe('when an account is not open', () => {
    const fundedWallet = [open(funding), open(wallet), transfer('t-fund', 'funding-eur', 'wallet-1', 1000)];

    it.each<[string, LedgerCommand[]]>([
      ['the debit account is', [open(merchant)]],
      ['the credit account is', fundedWallet],
      ['both accounts are', []],
    ])('refuses with account_not_found when %s unopened', (_which, history) => {
      given(history).when(transfer('t-1', 'wallet-1', 'merchant-1', 100)).thenRejected('account_not_found');
    });
  });

  describe('when currencies differ', () => {
    it('refuses a transfer in another currency than both accounts with currency_mismatch', () => {
      given(funded()).when(transfer('t-1', 'wallet-1', 'merchant-1', 100, 'USD')).thenRejected('currency_mismatch');
    });

    it('refuses a transfer between accounts in different currencies with currency_mismatch', () => {
      given([...funded(), open(walletJpy)]).when(transfer('t-1', 'wallet-1', 'wallet-jpy', 100)).thenRejected('currency_mismatch');
    });

    it('reports currency_mismatch before insufficient_funds', () => {
      given([open(wallet), open(walletJpy)]).when(transfer('t-1', 'wallet-jpy', 'wallet-1', 100, 'JPY')).thenRejected('currency_mismatch');
    });
  });

  describe('when both sides are the same account', () => {
    it('refuses with same_account, before account_not_found', () => {
      given(funded()).when(transfer('t-1', 'wallet-1', 'wallet-1', 100)).thenRejected('same_account');
      given([]).when(transfer('t-1', 'wallet-1', 'wallet-1', 100)).thenRejected('same_account');
    });
  });
});

describe('PostTransfer idempotency', () => {
  const history = [...funded(), transfer('t-1', 'wallet-1', 'merchant-1', 300)];

  it('the same id with the same body returns the first outcome and appends nothing', () => {
    const first = decideLedger(transfer('t-1', 'wallet-1', 'merchant-1', 300), given(funded()).state, NOW);
    const repeat = given(history).when(transfer('t-1', 'wallet-1', 'merchant-1', 300)).thenReplayed();
    expect(repeat.outcome).toEqual(first.outcome);
    expect(Object.fromEntries(repeat.balances)).toEqual({ 'wallet-1': balances(700, 0, 700), 'merchant-1': balances(300, 0, 300) });
  });

  it('the same id with another body is refused with duplicate_id_different_body and recorded nowhere', () => {
    const result = given(history).when(transfer('t-1', 'wallet-1', 'merchant-1', 301)).thenRejected('duplicate_id_different_body');
    expect(result.events).toEqual([]);
    expect(result.outcome).toMatchObject({ type: 'TransferRejected', data: { reasonCode: 'duplicate_id_different_body', balancesAfter: { 'wallet-1': balances(700, 0, 700) } } });
  });

  it('a refused transfer keeps its id: the retry gets the first refusal even once funds arrived', () => {
    const refused = [...funded(10), { ...transfer('t-1', 'wallet-1', 'merchant-1', 300) }];
    const state = refused.reduce<LedgerState>((current, command) => decideLedger(command, current, NOW).state, initialLedgerState());
    const topUp = decideLedger(transfer('t-2', 'funding-eur', 'wallet-1', 1000), state, NOW);
    const retry = decideLedger(transfer('t-1', 'wallet-1', 'merchant-1', 300), topUp.state, NOW);
    expect({ status: retry.status, outcome: retry.outcome?.type, reason: (retry.outcome?.data as { reasonCode?: string }).reasonCode })
      .toEqual({ status: 'replayed', outcome: 'TransferRejected', reason: 'insufficient_funds' });
  });
});

describe('PostLinkedTransfers', () => {
  const batch = (legs: [string, string, string, number][]): LedgerCommand => ({
    type: 'PostLinkedTransfers',
    data: { batchId: 'batch-1', transfers: legs.map(([transferId, debitAccountId, creditAccountId, amountMinor]) => ({ transferId, debitAccountId, creditAccountId, amount: eur(amountMinor) })) },
  });

  it('posts every leg in order; a later leg spends what an earlier leg brought', () => {
    const result = given([open(funding), open(wallet), open(merchant), open(fees)])
      .when(batch([['leg-1', 'funding-eur', 'wallet-1', 1000], ['leg-2', 'wallet-1', 'merchant-1', 970], ['leg-3', 'wallet-1', 'fees-eur', 30]]))
      .thenAccepted({ 'wallet-1': balances(0, 0, 0), 'merchant-1': balances(970, 0, 970), 'fees-eur': balances(30, 0, 30) });
    expect(result.events.filter((event) => event.category === 'transfer').map((event) => [event.id, event.event.type])).toEqual([
      ['leg-1', 'TransferPosted'], ['leg-2', 'TransferPosted'], ['leg-3', 'TransferPosted'], ['batch-1', 'LinkedTransfersPosted'],
    ]);
  });

  it('posts nothing when any leg fails, naming the leg, and records the refusal under the batch id', () => {
    const result = given(funded()).when(batch([['leg-1', 'wallet-1', 'merchant-1', 970], ['leg-2', 'wallet-1', 'fees-eur', 31]])).thenRejected('insufficient_funds');
    expect(result.events).toEqual([{ category: 'transfer', id: 'batch-1', event: result.outcome }]);
    expect(result.outcome).toMatchObject({ type: 'LinkedTransfersRejected', data: { failedTransferIndex: 1, balancesAfter: { 'wallet-1': balances(1000, 0, 1000) } } });
  });

  it('refuses a leg whose id is already a transfer with duplicate_id_different_body', () => {
    given(funded()).when(batch([['t-fund', 'wallet-1', 'merchant-1', 1]])).thenRejected('duplicate_id_different_body');
  });

  it('throws on an empty batch or repeated ids (bad input)', () => {
    given(funded()).whenThrows(batch([]), 'a linked batch holds 1 to 32 transfers, got 0');
    given(funded()).whenThrows(batch([['leg-1', 'wallet-1', 'merchant-1', 1], ['leg-1', 'wallet-1', 'merchant-1', 1]]), "batch 'batch-1' repeats a transfer id (or uses its own id for a transfer)");
  });
});

describe('ExchangeCurrency', () => {
  const accounts = [...funded(), open(fxEur), open(fxJpy), open(walletJpy)];
  const exchange = (amountMinor: number, numerator: number, denominator = 1, fxTargetAccountId = 'fx-jpy'): LedgerCommand => ({
    type: 'ExchangeCurrency',
    data: {
      transferId: 'fx-1', debitAccountId: 'wallet-1', creditAccountId: 'wallet-jpy', fxSourceAccountId: 'fx-eur', fxTargetAccountId,
      amount: eur(amountMinor), targetCurrency: 'JPY', rate: { numerator: String(numerator), denominator: String(denominator) },
    },
  });

  it('posts a linked pair through the FX accounts at the stated rate (1 EUR = 162.35 JPY: 10.00 EUR -> 1624 JPY)', () => {
    const result = given(accounts).when(exchange(1000, 16_235, 100)).thenAccepted({
      'wallet-1': balances(0, 0, 0), 'fx-eur': balances(1000, 0, 1000), 'fx-jpy': balances(-1624, 0, -1624, 'JPY'), 'wallet-jpy': balances(1624, 0, 1624, 'JPY'),
    });
    expect(result.outcome).toMatchObject({ type: 'CurrencyExchanged', data: { targetAmount: { amountMinor: '1624', currency: 'JPY' }, rounding: 'half-even' } });
  });

  it.each([[250, 2], [350, 4], [251, 3]])('rounds half-even once: 0.01 EUR at %i JPY/EUR gives %i JPY', (numerator, expectedMinor) => {
    const result = given(accounts).when(exchange(1, numerator)).thenAccepted();
    expect(result.outcome).toMatchObject({ data: { targetAmount: { amountMinor: String(expectedMinor) } } });
  });

  it('refuses an amount that converts to nothing with amount_rounds_to_zero', () => {
    given(accounts).when(exchange(1, 50)).thenRejected('amount_rounds_to_zero');
  });

  it('refuses a target FX account in the wrong currency with currency_mismatch', () => {
    given(accounts).when(exchange(100, 150, 1, 'fees-eur')).thenRejected('currency_mismatch');
  });

  it('throws on an exchange into the same currency (bad input)', () => {
    given(accounts).whenThrows({ type: 'ExchangeCurrency', data: { ...(exchange(1, 1) as Extract<LedgerCommand, { type: 'ExchangeCurrency' }>).data, targetCurrency: 'EUR' } },
      'cannot exchange EUR to itself: use PostTransfer');
  });
});

describe('ReverseTransfer', () => {
  const paid = [...funded(), transfer('t-1', 'wallet-1', 'merchant-1', 300)];

  it('moves money back in parts, never more than the original', () => {
    given(paid).when(reverse('r-1', 't-1', 100)).thenAccepted({ 'wallet-1': balances(800, 0, 800), 'merchant-1': balances(200, 0, 200) });
    given([...paid, reverse('r-1', 't-1', 100)]).when(reverse('r-2', 't-1', 200)).thenAccepted({ 'merchant-1': balances(0, 0, 0) });
    given([...paid, reverse('r-1', 't-1', 100)]).when(reverse('r-2', 't-1', 201)).thenRejected('reversal_exceeds_original');
  });

  it('refunds a captured hold by its hold id', () => {
    given([...funded(), placeHold('h-1', 'wallet-1', 400), capture('h-1', 400)]).when(reverse('r-1', 'h-1', 400))
      .thenAccepted({ 'wallet-1': balances(1000, 0, 1000), 'merchant-1': balances(0, 0, 0) });
  });

  it('refuses with transfer_not_found, transfer_not_reversible, currency_mismatch and insufficient_funds', () => {
    given(paid).when(reverse('r-1', 'no-such', 1)).thenRejected('transfer_not_found');
    given([...paid, placeHold('h-1', 'wallet-1', 1)]).when(reverse('r-1', 'h-1', 1)).thenRejected('transfer_not_reversible');
    given(paid).when({ type: 'ReverseTransfer', data: { transferId: 'r-1', originalTransferId: 't-1', amount: { amountMinor: '1', currency: 'USD' } } }).thenRejected('currency_mismatch');
    given([...paid, transfer('t-2', 'merchant-1', 'fees-eur', 300)]).when(reverse('r-1', 't-1', 1)).thenRejected('insufficient_funds');
  });
});

describe('holds', () => {
  const held = [...funded(), placeHold('h-1', 'wallet-1', 400, IN_A_MINUTE)];

  it('PlaceHold lowers available at once and remembers the expiry', () => {
    const result = given(funded()).when(placeHold('h-1', 'wallet-1', 400, IN_A_MINUTE)).thenAccepted({ 'wallet-1': balances(1000, 400, 600) });
    expect(accountEvents(result, 'wallet-1')).toEqual([{ type: 'AccountFundsHeld', data: { holdId: 'h-1', amountMinor: '400', expiresAt: IN_A_MINUTE } }]);
  });

  it('PlaceHold repeats: same body replayed, other body duplicate_id_different_body; an expiry already past is hold_expired', () => {
    given(held).when(placeHold('h-1', 'wallet-1', 400, IN_A_MINUTE)).thenReplayed();
    given(held).when(placeHold('h-1', 'wallet-1', 401, IN_A_MINUTE)).thenRejected('duplicate_id_different_body');
    given(funded()).when(placeHold('h-2', 'wallet-1', 1, NOW.toISOString())).thenRejected('hold_expired');
  });

  it('CaptureHold after the expiry is refused with hold_expired', () => {
    given(held).when(capture('h-1', 400), LATER).thenRejected('hold_expired');
  });

  it('CaptureHold repeated with the same body is replayed; with another body, hold_already_final', () => {
    const captured = [...held, capture('h-1', 150)];
    given(captured).when(capture('h-1', 150)).thenReplayed();
    given(captured).when(capture('h-1', 100)).thenRejected('hold_already_final');
  });

  it('VoidHold releases the hold in full; a later capture is hold_already_final and a second void is a replay', () => {
    given(held).when({ type: 'VoidHold', data: { holdId: 'h-1', accountId: 'wallet-1' } }).thenAccepted({ 'wallet-1': balances(1000, 0, 1000) });
    const voided = [...held, { type: 'VoidHold', data: { holdId: 'h-1', accountId: 'wallet-1' } } as LedgerCommand];
    given(voided).when(capture('h-1', 400)).thenRejected('hold_already_final');
    given(voided).when({ type: 'VoidHold', data: { holdId: 'h-1', accountId: 'wallet-1' } }).thenReplayed();
    given(funded()).when({ type: 'VoidHold', data: { holdId: 'h-9', accountId: 'wallet-1' } }).thenRejected('hold_not_found');
  });

  it('ExpireHold is refused before the expiry and releases the hold after it', () => {
    const expire: LedgerCommand = { type: 'ExpireHold', data: { holdId: 'h-1', accountId: 'wallet-1' } };
    given(held).when(expire, NOW).thenRejected('hold_not_expired');
    const result = given(held).when(expire, LATER).thenAccepted({ 'wallet-1': balances(1000, 0, 1000) });
    expect(result.outcome).toEqual({ type: 'HoldExpired', data: { holdId: 'h-1', accountId: 'wallet-1', releasedAmountMinor: '400', balances: balances(1000, 0, 1000), expiresAt: IN_A_MINUTE } });
    given([...funded(), placeHold('h-2', 'wallet-1', 1)]).when({ type: 'ExpireHold', data: { holdId: 'h-2', accountId: 'wallet-1' } }, LATER).thenRejected('hold_not_expired');
  });

  describe('PlaceHold', () => {
    describe('when the account is open with funds', () => {
      it('may hold the whole available balance, and not one minor unit more (insufficient_funds)', () => {
        given(funded()).when(placeHold('h-1', 'wallet-1', 1000)).thenAccepted({ 'wallet-1': balances(1000, 1000, 0) });
        given(funded()).when(placeHold('h-1', 'wallet-1', 1001)).thenRejected('insufficient_funds');
      });

      it('refuses a hold in another currency with currency_mismatch', () => {
        given(funded()).when({ type: 'PlaceHold', data: { holdId: 'h-1', accountId: 'wallet-1', amount: { amountMinor: '100', currency: 'USD' }, paymentId: PAYMENT_ID } })
          .thenRejected('currency_mismatch');
      });
    });

    describe('when the account already has an open hold', () => {
      const onHold = [...funded(), placeHold('h-1', 'wallet-1', 700)];

      it('stacks a second hold on what the first leaves available, and no more (insufficient_funds)', () => {
        const result = given(onHold).when(placeHold('h-2', 'wallet-1', 300)).thenAccepted({ 'wallet-1': balances(1000, 1000, 0) });
        expect(accountEvents(result, 'wallet-1')).toEqual([{ type: 'AccountFundsHeld', data: { holdId: 'h-2', amountMinor: '300' } }]);
        given(onHold).when(placeHold('h-2', 'wallet-1', 301)).thenRejected('insufficient_funds');
      });

      it('refuses the open hold\'s id with duplicate_hold_id when the caller did not load the hold stream, keeping pending as it was', () => {
        const { state } = given(onHold);
        givenLedger({ ...state, holds: new Map() }).when(placeHold('h-1', 'wallet-1', 100)).thenRejected('duplicate_hold_id');
      });
    });

    describe('when the account has no debit rule', () => {
      it('holds beyond zero', () => {
        given([open(funding)]).when(placeHold('h-1', 'funding-eur', 500)).thenAccepted({ 'funding-eur': balances(0, 500, -500) });
      });
    });

    describe('when the account is unopened', () => {
      it('refuses with account_not_found', () => {
        given([]).when(placeHold('h-1', 'wallet-1', 100)).thenRejected('account_not_found');
      });
    });
  });

  describe('CaptureHold', () => {
    describe('when the hold is open', () => {
      // The merchant already has 50, so the capture's credit is seen adding to it.
      const open400 = [...funded(), transfer('t-1', 'funding-eur', 'merchant-1', 50), placeHold('h-1', 'wallet-1', 400)];

      it('debits the held account by the hold, ends the hold and credits the receiving account', () => {
        const command = capture('h-1', 400);
        const result = given(open400).when(command).thenAccepted();
        expect(result.outcome).toEqual({ type: 'HoldCaptured', data: { ...command.data, debitBalances: balances(600, 0, 600), creditBalances: balances(450, 0, 450) } });
        expect(accountEvents(result, 'wallet-1')).toEqual([{ type: 'AccountHoldCaptured', data: { holdId: 'h-1', amountMinor: '400' } }]);
        expect(accountEvents(result, 'merchant-1')).toEqual([{ type: 'AccountCredited', data: { transferId: 'h-1', amountMinor: '400' } }]);
      });

      it('captures part of the hold and releases the rest to available', () => {
        const command = capture('h-1', 150);
        const result = given(open400).when(command).thenAccepted();
        expect(result.outcome).toEqual({
          type: 'HoldCaptured',
          data: { ...command.data, debitBalances: balances(850, 0, 850), creditBalances: balances(200, 0, 200), releasedAmountMinor: '250' },
        });
        expect(accountEvents(result, 'wallet-1')).toEqual([
          { type: 'AccountHoldCaptured', data: { holdId: 'h-1', amountMinor: '150' } }, { type: 'AccountHoldReleased', data: { holdId: 'h-1', amountMinor: '250' } },
        ]);
        expect(accountEvents(result, 'merchant-1')).toEqual([{ type: 'AccountCredited', data: { transferId: 'h-1', amountMinor: '150' } }]);
      });

      it('refuses more than the hold with amount_exceeds_hold', () => {
        given(open400).when(capture('h-1', 401)).thenRejected('amount_exceeds_hold');
      });

      it('refuses a capture into the held account itself with same_account', () => {
        given(open400).when(capture('h-1', 400, 'wallet-1')).thenRejected('same_account');
      });

      it('refuses a capture into an unopened account with account_not_found', () => {
        given(open400).when(capture('h-1', 400, 'merchant-2')).thenRejected('account_not_found');
      });

      it('refuses a capture into an account in another currency, or in another currency than the hold, with currency_mismatch', () => {
        given([...open400, open(walletJpy)]).when(capture('h-1', 400, 'wallet-jpy')).thenRejected('currency_mismatch');
        given(open400).when(capture('h-1', 400, 'merchant-1', 'USD')).thenRejected('currency_mismatch');
      });

      it('refuses an unknown hold id with hold_not_found', () => {
        given(open400).when(capture('h-2', 400)).thenRejected('hold_not_found');
      });
    });

    describe('when the hold took the whole balance and nothing is available', () => {
      it('captures anyway: the funds were reserved when the hold was placed', () => {
        given([...funded(400), placeHold('h-1', 'wallet-1', 400)]).when(capture('h-1', 400))
          .thenAccepted({ 'wallet-1': balances(0, 0, 0), 'merchant-1': balances(400, 0, 400) });
      });
    });

    describe('when the account has two open holds', () => {
      it('captures one and leaves the other pending', () => {
        given([...funded(), placeHold('h-0', 'wallet-1', 100), placeHold('h-1', 'wallet-1', 400)]).when(capture('h-1', 400))
          .thenAccepted({ 'wallet-1': balances(600, 100, 500), 'merchant-1': balances(400, 0, 400) });
      });
    });

    describe('when the hold is on another account', () => {
      it('refuses with hold_not_found', () => {
        given([...funded(), open(otherWallet), transfer('t-2', 'funding-eur', 'wallet-2', 1000), placeHold('h-1', 'wallet-2', 400)])
          .when(capture('h-1', 400)).thenRejected('hold_not_found');
      });
    });

    describe('when the held account is unopened', () => {
      it('refuses with account_not_found, but with same_account first when the receiver is the same account', () => {
        given([open(merchant)]).when(capture('h-1', 400)).thenRejected('account_not_found');
        given([]).when(capture('h-1', 400, 'wallet-1')).thenRejected('same_account');
      });
    });
  });
});

describe('balance monitors', () => {
  const monitor = (monitorId: string, direction: 'above' | 'below', thresholdMinor: number): LedgerCommand =>
    ({ type: 'RegisterBalanceMonitor', data: { monitorId, accountId: 'wallet-1', balance: 'available', direction, thresholdMinor: String(thresholdMinor) } });

  it('emits BalanceThresholdCrossed when a movement takes the balance below the threshold, once', () => {
    const watched = [...funded(), monitor('low', 'below', 500)];
    const result = given(watched).when(placeHold('h-1', 'wallet-1', 600)).thenAccepted();
    expect(accountEvents(result, 'wallet-1').at(-1)).toEqual({
      type: 'BalanceThresholdCrossed',
      data: {
        monitorId: 'low', accountId: 'wallet-1', balance: 'available', direction: 'below', thresholdMinor: '500',
        previousMinor: '1000', currentMinor: '400', causedBy: 'h-1', balances: balances(1000, 600, 400),
      },
    });
    const below = given([...watched, placeHold('h-1', 'wallet-1', 600)]).when(transfer('t-2', 'wallet-1', 'merchant-1', 100)).thenAccepted();
    expect(accountEvents(below, 'wallet-1').map((event) => event.type)).toEqual(['AccountDebited']);
  });

  it("emits for 'above' on a credit that goes past the threshold", () => {
    const result = given([...funded(), monitor('high', 'above', 1000)]).when(transfer('t-2', 'funding-eur', 'wallet-1', 1)).thenAccepted();
    expect(accountEvents(result, 'wallet-1').map((event) => event.type)).toEqual(['AccountCredited', 'BalanceThresholdCrossed']);
  });

  it('refuses a reused monitor id with another body, and more than 16 monitors', () => {
    given([...funded(), monitor('low', 'below', 500)]).when(monitor('low', 'below', 400)).thenRejected('duplicate_id_different_body');
    given([...funded(), monitor('low', 'below', 500)]).when(monitor('low', 'below', 500)).thenReplayed();
    const sixteen = Array.from({ length: 16 }, (_, index) => monitor(`m-${index}`, 'above', index));
    given([...funded(), ...sixteen]).when(monitor('m-16', 'above', 99)).thenRejected('monitor_limit_reached');
  });
});

describe('purity', () => {
  it.each<[string, LedgerCommand]>([
    ['a transfer', transfer('t-1', 'wallet-1', 'merchant-1', 100)],
    ['a hold', placeHold('h-2', 'wallet-1', 100)],
    ['a capture', capture('h-1', 150)],
    ['a void', { type: 'VoidHold', data: { holdId: 'h-1', accountId: 'wallet-1' } }],
  ])('deciding %s leaves the state it was given untouched', (_name, command) => {
    const { state } = given([...funded(), placeHold('h-1', 'wallet-1', 400)]);
    const before = structuredClone(state);
    expect(decideLedger(command, state, NOW).status).toBe('accepted');
    expect(state).toEqual(before);
  });
});
