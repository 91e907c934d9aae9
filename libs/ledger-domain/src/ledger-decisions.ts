import type {
  CaptureHoldData, CaptureRejectedData, HoldCapturedData, HoldPlacedData, HoldRejectedData,
  LedgerRejectionCode, OpenAccountData, PlaceHoldData, PostTransferData, TransferPostedData, TransferRejectedData,
} from '@clearline/contracts';
import { balancesOf, canGive, evolveAccount, type AccountEvent, type AccountState, type OpenAccountState } from './account.js';

/**
 * The ledger's decisions. Each takes the current state of the accounts a command touches and returns
 * the events to append, per stream: the account streams get the balance changes, the transfer or
 * hold stream gets the one event that other services hear about. Pure: no I/O, no clock.
 */
export interface LedgerDecision<Outcome> {
  /** Events for `account-<id>` streams, keyed by account id. */
  accountEvents: ReadonlyMap<string, AccountEvent[]>;
  /** The integration event for the transfer or hold stream. */
  outcome: Outcome;
}

export class LedgerDomainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerDomainError';
  }
}

export function decideOpenAccount(command: OpenAccountData, account: AccountState): AccountEvent[] {
  if (account.status === 'open') {
    const same = account.ownerId === command.ownerId && account.kind === command.kind
      && account.currency === command.currency && account.allowNegativeBalance === command.allowNegativeBalance;
    // Opening the same account twice is a retry, not an error; opening it differently is.
    if (same) return [];
    throw new LedgerDomainError(`cannot open account '${command.accountId}': it is already open with other terms`);
  }
  return [{ type: 'AccountOpened', data: command }];
}

export type TransferOutcome =
  | { type: 'TransferPosted'; data: TransferPostedData }
  | { type: 'TransferRejected'; data: TransferRejectedData };

export function decidePostTransfer(command: PostTransferData, debit: AccountState, credit: AccountState): LedgerDecision<TransferOutcome> {
  const amountMinor = positiveAmount(command.amount.amountMinor);
  const rejection = transferRejection(command.debitAccountId, command.creditAccountId, command.amount.currency, amountMinor, debit, credit);
  if (rejection) return rejected({ type: 'TransferRejected', data: { ...command, reasonCode: rejection } });
  const debitAccount = debit as OpenAccountState;
  const creditAccount = credit as OpenAccountState;
  const debitEvent: AccountEvent = { type: 'AccountDebited', data: { transferId: command.transferId, amountMinor: amountMinor.toString() } };
  const creditEvent: AccountEvent = { type: 'AccountCredited', data: { transferId: command.transferId, amountMinor: amountMinor.toString() } };
  return {
    accountEvents: new Map([[debitAccount.accountId, [debitEvent]], [creditAccount.accountId, [creditEvent]]]),
    outcome: {
      type: 'TransferPosted',
      data: {
        ...command,
        debitBalances: balancesOf(evolveAccount(debitAccount, debitEvent) as OpenAccountState),
        creditBalances: balancesOf(evolveAccount(creditAccount, creditEvent) as OpenAccountState),
      },
    },
  };
}

export type HoldOutcome = { type: 'HoldPlaced'; data: HoldPlacedData } | { type: 'HoldRejected'; data: HoldRejectedData };

export function decidePlaceHold(command: PlaceHoldData, account: AccountState): LedgerDecision<HoldOutcome> {
  const amountMinor = positiveAmount(command.amount.amountMinor);
  const reasonCode = holdRejection(command, amountMinor, account);
  if (reasonCode) return rejected({ type: 'HoldRejected', data: { ...command, reasonCode } });
  const open = account as OpenAccountState;
  const held: AccountEvent = { type: 'AccountFundsHeld', data: { holdId: command.holdId, amountMinor: amountMinor.toString() } };
  return {
    accountEvents: new Map([[open.accountId, [held]]]),
    outcome: { type: 'HoldPlaced', data: { ...command, balances: balancesOf(evolveAccount(open, held) as OpenAccountState) } },
  };
}

export type CaptureOutcome = { type: 'HoldCaptured'; data: HoldCapturedData } | { type: 'CaptureRejected'; data: CaptureRejectedData };

/** Captures a hold in full: the held account is debited, the receiving account credited. */
export function decideCaptureHold(command: CaptureHoldData, held: AccountState, receiving: AccountState): LedgerDecision<CaptureOutcome> {
  const amountMinor = positiveAmount(command.amount.amountMinor);
  const reasonCode = captureRejection(command, amountMinor, held, receiving);
  if (reasonCode) return rejected({ type: 'CaptureRejected', data: { ...command, reasonCode } });
  const heldAccount = held as OpenAccountState;
  const receivingAccount = receiving as OpenAccountState;
  const captured: AccountEvent = { type: 'AccountHoldCaptured', data: { holdId: command.holdId, amountMinor: amountMinor.toString() } };
  const credited: AccountEvent = { type: 'AccountCredited', data: { transferId: command.holdId, amountMinor: amountMinor.toString() } };
  return {
    accountEvents: new Map([[heldAccount.accountId, [captured]], [receivingAccount.accountId, [credited]]]),
    outcome: {
      type: 'HoldCaptured',
      data: {
        ...command,
        debitBalances: balancesOf(evolveAccount(heldAccount, captured) as OpenAccountState),
        creditBalances: balancesOf(evolveAccount(receivingAccount, credited) as OpenAccountState),
      },
    },
  };
}

/** Amounts reach the deciders already checked by the contracts; a non-positive one is a programming error. */
function positiveAmount(amountMinor: string): bigint {
  const amount = BigInt(amountMinor);
  if (amount <= 0n) throw new LedgerDomainError(`amounts must be positive minor units, got ${amountMinor}`);
  return amount;
}

function rejected<Outcome>(outcome: Outcome): LedgerDecision<Outcome> {
  return { accountEvents: new Map(), outcome };
}

function transferRejection(
  debitAccountId: string, creditAccountId: string, currency: string, amountMinor: bigint, debit: AccountState, credit: AccountState,
): LedgerRejectionCode | undefined {
  if (debitAccountId === creditAccountId) return 'same_account';
  if (debit.status !== 'open' || credit.status !== 'open') return 'account_not_found';
  if (debit.currency !== currency || credit.currency !== currency) return 'currency_mismatch';
  if (!canGive(debit, amountMinor)) return 'insufficient_funds';
  return undefined;
}

function holdRejection(command: PlaceHoldData, amountMinor: bigint, account: AccountState): LedgerRejectionCode | undefined {
  if (account.status !== 'open') return 'account_not_found';
  if (account.currency !== command.amount.currency) return 'currency_mismatch';
  if (account.holds.has(command.holdId)) return 'duplicate_hold_id';
  if (!canGive(account, amountMinor)) return 'insufficient_funds';
  return undefined;
}

function captureRejection(
  command: CaptureHoldData, amountMinor: bigint, held: AccountState, receiving: AccountState,
): LedgerRejectionCode | undefined {
  if (command.accountId === command.creditAccountId) return 'same_account';
  if (held.status !== 'open' || receiving.status !== 'open') return 'account_not_found';
  if (receiving.currency !== held.currency || command.amount.currency !== held.currency) return 'currency_mismatch';
  const heldAmount = held.holds.get(command.holdId);
  if (heldAmount === undefined) return 'hold_not_found';
  // Partial capture arrives with the payments lifecycle; until then a capture takes the whole hold.
  if (heldAmount !== amountMinor) return 'hold_amount_mismatch';
  return undefined;
}

