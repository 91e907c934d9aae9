import type { AccountCommandRejectedData, HoldReleaseRejectedData, LedgerRejectionCode, WireBalances, WireBalancesByAccount } from '@clearline/contracts';
import { balancesOf, evolveAccount, initialAccountState, type AccountEvent, type AccountState } from './account.js';
import {
  evolveHold, evolveTransfer, initialHoldState, initialTransferState,
  type HoldEvent, type HoldOutcomeEvent, type HoldState, type TransferEvent, type TransferOutcomeEvent, type TransferState,
} from './operation-records.js';

/**
 * The whole ledger in memory, as a single writer holds it: every account, transfer id and hold id
 * that has a stream. Each entry is what folding its own stream gives, so a caller that loads only
 * the streams one command touches (apps/ledger) and one that keeps everything (a batching writer)
 * decide alike.
 */
export interface LedgerState {
  accounts: ReadonlyMap<string, AccountState>;
  transfers: ReadonlyMap<string, TransferState>;
  holds: ReadonlyMap<string, HoldState>;
}

/** An event with the stream it belongs to: `account-<id>`, `transfer-<id>` or `hold-<id>`. */
export type LedgerEvent =
  | { category: 'account'; id: string; event: AccountEvent }
  | { category: 'transfer'; id: string; event: TransferEvent }
  | { category: 'hold'; id: string; event: HoldEvent };

/**
 * The answers to refusals that no stream records: an account command (one that succeeds answers with
 * its account events), and a void or expiry of a hold.
 */
export type RefusalOutcomeEvent =
  | { type: 'AccountCommandRejected'; data: AccountCommandRejectedData }
  | { type: 'HoldReleaseRejected'; data: HoldReleaseRejectedData };

export type LedgerOutcome = TransferOutcomeEvent | HoldOutcomeEvent | RefusalOutcomeEvent;

/**
 * What a caller gets back for every command.
 * - `accepted`: `events` are to be appended together; `outcome` is the message for the caller
 *   (none for account lifecycle commands, whose account events say it all; a refused account
 *   command answers with AccountCommandRejected, a refused void or expiry with HoldReleaseRejected).
 * - `rejected`: `reasonCode` says why. `events` holds the rejection only where the id's stream
 *   records it (transfers, holds placed); otherwise it is empty and nothing is appended.
 * - `replayed`: the command repeats one already decided: no events, and `outcome` is the first one.
 * `balances` holds every affected account that exists, after the decision (unchanged when rejected).
 * `state` is the ledger after `events`, computed while deciding: a writer that keeps the ledger in
 * memory uses it as is; folding `events` onto the previous state gives the same.
 */
export interface LedgerResult {
  status: 'accepted' | 'rejected' | 'replayed';
  reasonCode?: LedgerRejectionCode;
  events: LedgerEvent[];
  outcome?: LedgerOutcome;
  balances: ReadonlyMap<string, WireBalances>;
  state: LedgerState;
}

/** A command that cannot be valid in any state (bad input, a programming error): never a rejection code. */
export class LedgerDomainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerDomainError';
  }
}

export function initialLedgerState(): LedgerState {
  return { accounts: new Map(), transfers: new Map(), holds: new Map() };
}

export function streamIdOf(event: LedgerEvent): string {
  return `${event.category}-${event.id}`;
}

export function evolveLedger(state: LedgerState, event: LedgerEvent): LedgerState {
  return applyLedgerEvents(state, [event]);
}

/** Folds events onto the state, copying each map once per call rather than once per event. */
export function applyLedgerEvents(state: LedgerState, events: readonly LedgerEvent[]): LedgerState {
  if (events.length === 0) return state;
  const accounts = new Map(state.accounts);
  const transfers = new Map(state.transfers);
  const holds = new Map(state.holds);
  for (const event of events) applyTo({ accounts, transfers, holds }, event);
  return { accounts, transfers, holds };
}

interface MutableLedger {
  accounts: Map<string, AccountState>;
  transfers: Map<string, TransferState>;
  holds: Map<string, HoldState>;
}

function applyTo(ledger: MutableLedger, ledgerEvent: LedgerEvent): void {
  switch (ledgerEvent.category) {
    case 'account':
      ledger.accounts.set(ledgerEvent.id, evolveAccount(ledger.accounts.get(ledgerEvent.id) ?? initialAccountState(), ledgerEvent.event));
      return;
    case 'transfer':
      ledger.transfers.set(ledgerEvent.id, evolveTransfer(ledger.transfers.get(ledgerEvent.id) ?? initialTransferState(), ledgerEvent.event));
      return;
    case 'hold':
      ledger.holds.set(ledgerEvent.id, evolveHold(ledger.holds.get(ledgerEvent.id) ?? initialHoldState(), ledgerEvent.event));
      return;
    default: {
      const unreachable: never = ledgerEvent;
      return unreachable;
    }
  }
}

/**
 * The ledger while one command is decided: events are applied as they are emitted, so a linked
 * transfer's later legs see its earlier legs. Nothing outside sees it until the decision returns;
 * a rejection simply drops it.
 */
export class LedgerDraft {
  readonly events: LedgerEvent[] = [];
  private readonly working: MutableLedger;

  constructor(readonly before: LedgerState) {
    this.working = { accounts: new Map(before.accounts), transfers: new Map(before.transfers), holds: new Map(before.holds) };
  }

  account(accountId: string): AccountState {
    return this.working.accounts.get(accountId) ?? initialAccountState();
  }

  transfer(transferId: string): TransferState {
    return this.working.transfers.get(transferId) ?? initialTransferState();
  }

  hold(holdId: string): HoldState {
    return this.working.holds.get(holdId) ?? initialHoldState();
  }

  emit(event: LedgerEvent): void {
    this.events.push(event);
    applyTo(this.working, event);
  }

  state(): LedgerState {
    return { accounts: new Map(this.working.accounts), transfers: new Map(this.working.transfers), holds: new Map(this.working.holds) };
  }

  balances(accountIds: Iterable<string>): Map<string, WireBalances> {
    return balancesIn(this.working.accounts, accountIds);
  }
}

export function balancesIn(accounts: ReadonlyMap<string, AccountState>, accountIds: Iterable<string>): Map<string, WireBalances> {
  const balances = new Map<string, WireBalances>();
  for (const accountId of accountIds) {
    const account = accounts.get(accountId);
    if (account !== undefined && account.status !== 'unopened') balances.set(accountId, balancesOf(account));
  }
  return balances;
}

export function balancesRecord(balances: ReadonlyMap<string, WireBalances>): WireBalancesByAccount {
  return Object.fromEntries(balances);
}

export function accepted(draft: LedgerDraft, accountIds: Iterable<string>, outcome?: LedgerOutcome): LedgerResult {
  return { status: 'accepted', events: draft.events, ...(outcome ? { outcome } : {}), balances: draft.balances(accountIds), state: draft.state() };
}

/** A rejection; `recorded` events (the rejection in the id's own stream) are the only ones kept. */
export function rejected(
  before: LedgerState, reasonCode: LedgerRejectionCode, accountIds: Iterable<string>, outcome?: LedgerOutcome, recorded: LedgerEvent[] = [],
): LedgerResult {
  return {
    status: 'rejected', reasonCode, events: recorded, ...(outcome ? { outcome } : {}),
    balances: balancesIn(before.accounts, accountIds), state: applyLedgerEvents(before, recorded),
  };
}

export function replayed(before: LedgerState, accountIds: Iterable<string>, outcome?: LedgerOutcome): LedgerResult {
  return { status: 'replayed', events: [], ...(outcome ? { outcome } : {}), balances: balancesIn(before.accounts, accountIds), state: before };
}
