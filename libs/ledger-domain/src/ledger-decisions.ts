import type {
  CaptureHoldData, CaptureRejectedData, HoldCapturedData, HoldPlacedData, HoldRejectedData, OpenAccountData, PlaceHoldData, PostTransferData,
  TransferPostedData, TransferRejectedData,
} from '@clearline/contracts';
import type { AccountEvent, AccountState } from './account.js';
import { decideLedger, type LedgerCommand } from './ledger.js';
import { LedgerDomainError, type LedgerOutcome, type LedgerResult, type LedgerState } from './ledger-state.js';
import { initialHoldState, initialTransferState, type HoldState, type TransferState } from './operation-records.js';

export { LedgerDomainError } from './ledger-state.js';

/**
 * The per-stream face of `decideLedger` that apps/ledger uses: the caller hands over the states it
 * loaded, gets the account events to append keyed by account, and appends `outcome` to the
 * transfer or hold stream itself.
 */
export interface LedgerDecision<Outcome> {
  /** Events for `account-<id>` streams, keyed by account id. */
  accountEvents: ReadonlyMap<string, AccountEvent[]>;
  /** The integration event for the transfer or hold stream; the first one when the command is a repeat. */
  outcome: Outcome;
}

export type TransferOutcome =
  | { type: 'TransferPosted'; data: TransferPostedData }
  | { type: 'TransferRejected'; data: TransferRejectedData };
export type HoldOutcome = { type: 'HoldPlaced'; data: HoldPlacedData } | { type: 'HoldRejected'; data: HoldRejectedData };
export type CaptureOutcome = { type: 'HoldCaptured'; data: HoldCapturedData } | { type: 'CaptureRejected'; data: CaptureRejectedData };

/** Opening the same account twice is a retry (no events); opening it with other terms is an error. */
export function decideOpenAccount(command: OpenAccountData, account: AccountState): AccountEvent[] {
  const result = decideLedger({ type: 'OpenAccount', data: command }, stateOf([[command.accountId, account]]), new Date(0));
  if (result.status === 'rejected') throw new LedgerDomainError(`cannot open account '${command.accountId}': it is already open with other terms`);
  return accountEventsOf(result).get(command.accountId) ?? [];
}

export function decidePostTransfer(
  command: PostTransferData, debit: AccountState, credit: AccountState, transfer: TransferState = initialTransferState(),
): LedgerDecision<TransferOutcome> {
  const state = stateOf([[command.debitAccountId, debit], [command.creditAccountId, credit]], { transfers: [[command.transferId, transfer]] });
  // No clock is needed: transfers do not expire.
  return decisionOf<TransferOutcome>(decideLedger({ type: 'PostTransfer', data: command }, state, new Date(0)), ['TransferPosted', 'TransferRejected']);
}

export function decidePlaceHold(command: PlaceHoldData, account: AccountState, now: Date, hold: HoldState = initialHoldState()): LedgerDecision<HoldOutcome> {
  const state = stateOf([[command.accountId, account]], { holds: [[command.holdId, hold]] });
  return decisionOf<HoldOutcome>(decideLedger({ type: 'PlaceHold', data: command }, state, now), ['HoldPlaced', 'HoldRejected']);
}

/** Captures a hold in full or in part: the held account is debited, the receiving account credited, the rest released. */
export function decideCaptureHold(
  command: CaptureHoldData, held: AccountState, receiving: AccountState, now: Date, hold: HoldState = initialHoldState(),
): LedgerDecision<CaptureOutcome> {
  const state = stateOf([[command.accountId, held], [command.creditAccountId, receiving]], { holds: [[command.holdId, hold]] });
  return decisionOf<CaptureOutcome>(decideLedger({ type: 'CaptureHold', data: command }, state, now), ['HoldCaptured', 'CaptureRejected']);
}

export type { LedgerCommand };

function stateOf(
  accounts: [string, AccountState][],
  records: { transfers?: [string, TransferState][]; holds?: [string, HoldState][] } = {},
): LedgerState {
  // With the same id on both sides the first state wins; the decider refuses it as same_account anyway.
  const accountMap = new Map<string, AccountState>();
  for (const [accountId, account] of accounts) if (!accountMap.has(accountId)) accountMap.set(accountId, account);
  return { accounts: accountMap, transfers: new Map(records.transfers ?? []), holds: new Map(records.holds ?? []) };
}

function accountEventsOf(result: LedgerResult): Map<string, AccountEvent[]> {
  const byAccount = new Map<string, AccountEvent[]>();
  for (const ledgerEvent of result.events) {
    if (ledgerEvent.category !== 'account') continue;
    byAccount.set(ledgerEvent.id, [...(byAccount.get(ledgerEvent.id) ?? []), ledgerEvent.event]);
  }
  return byAccount;
}

function decisionOf<Outcome extends LedgerOutcome>(result: LedgerResult, types: readonly Outcome['type'][]): LedgerDecision<Outcome> {
  const outcome = result.outcome;
  if (outcome === undefined || !(types as readonly string[]).includes(outcome.type)) {
    throw new Error(`the ledger decided ${outcome?.type ?? 'nothing'} where ${types.join(' or ')} was expected`);
  }
  return { accountEvents: accountEventsOf(result), outcome: outcome as Outcome };
}
