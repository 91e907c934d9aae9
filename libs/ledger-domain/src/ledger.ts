import type {
  AccountCommandType, AccountReferenceData, CaptureHoldData, ExchangeCurrencyData, ModifyAccountData, OpenAccountData, PlaceHoldData, PostLinkedTransfersData,
  PostTransferData, RegisterBalanceMonitorData, ReleaseHoldData, ReverseTransferData,
} from '@clearline/contracts';
import {
  decideCloseAccount, decideFreezeAccount, decideModifyAccount, decideOpenAccount, decideRegisterBalanceMonitor, decideUnfreezeAccount,
} from './account-decisions.js';
import { decideCaptureHold, decideExpireHold, decidePlaceHold, decideVoidHold } from './hold-decisions.js';
import type { LedgerOutcome, LedgerResult, LedgerState } from './ledger-state.js';
import { decideExchangeCurrency, decidePostLinkedTransfers, decidePostTransfer, decideReverseTransfer } from './transfer-decisions.js';

/** Every command the ledger decides; the data types are the contracts in libs/contracts. */
export type LedgerCommand =
  | { type: 'OpenAccount'; data: OpenAccountData }
  | { type: 'ModifyAccount'; data: ModifyAccountData }
  | { type: 'FreezeAccount'; data: AccountReferenceData }
  | { type: 'UnfreezeAccount'; data: AccountReferenceData }
  | { type: 'CloseAccount'; data: AccountReferenceData }
  | { type: 'RegisterBalanceMonitor'; data: RegisterBalanceMonitorData }
  | { type: 'PostTransfer'; data: PostTransferData }
  | { type: 'PostLinkedTransfers'; data: PostLinkedTransfersData }
  | { type: 'ExchangeCurrency'; data: ExchangeCurrencyData }
  | { type: 'ReverseTransfer'; data: ReverseTransferData }
  | { type: 'PlaceHold'; data: PlaceHoldData }
  | { type: 'CaptureHold'; data: CaptureHoldData }
  | { type: 'VoidHold'; data: ReleaseHoldData }
  | { type: 'ExpireHold'; data: ReleaseHoldData };

/**
 * The ledger's decider: the state of the streams a command touches (or the whole ledger) and the
 * command in, events and the caller's answer out. `now` is the only time a decision sees: hold
 * expiry is judged against it, never against a clock.
 */
export function decideLedger(command: LedgerCommand, state: LedgerState, now: Date): LedgerResult {
  switch (command.type) {
    case 'OpenAccount':
      return answeringRefusal(command, decideOpenAccount(command.data, state));
    case 'ModifyAccount':
      return answeringRefusal(command, decideModifyAccount(command.data, state));
    case 'FreezeAccount':
      return answeringRefusal(command, decideFreezeAccount(command.data, state));
    case 'UnfreezeAccount':
      return answeringRefusal(command, decideUnfreezeAccount(command.data, state));
    case 'CloseAccount':
      return answeringRefusal(command, decideCloseAccount(command.data, state));
    case 'RegisterBalanceMonitor':
      return answeringRefusal(command, decideRegisterBalanceMonitor(command.data, state));
    case 'PostTransfer':
      return decidePostTransfer(command.data, state);
    case 'PostLinkedTransfers':
      return decidePostLinkedTransfers(command.data, state);
    case 'ExchangeCurrency':
      return decideExchangeCurrency(command.data, state);
    case 'ReverseTransfer':
      return decideReverseTransfer(command.data, state);
    case 'PlaceHold':
      return decidePlaceHold(command.data, state, now);
    case 'CaptureHold':
      return decideCaptureHold(command.data, state, now);
    case 'VoidHold':
      return answeringRefusal(command, decideVoidHold(command.data, state));
    case 'ExpireHold':
      return answeringRefusal(command, decideExpireHold(command.data, state, now));
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

type RefusalAnswered = Extract<LedgerCommand, { type: AccountCommandType | 'VoidHold' | 'ExpireHold' }>;

/**
 * A refused account command, void or expiry changes nothing and records nothing, yet its caller
 * must hear why: the refusal becomes the outcome (published through the ledger's reply stream),
 * with the account's balances when it exists.
 */
function answeringRefusal(command: RefusalAnswered, result: LedgerResult): LedgerResult {
  if (result.status !== 'rejected' || result.outcome !== undefined || result.reasonCode === undefined) return result;
  const { accountId } = command.data;
  const balances = result.balances.get(accountId);
  const common = { accountId, reasonCode: result.reasonCode, ...(balances ? { balances } : {}) };
  const outcome: LedgerOutcome = command.type === 'VoidHold' || command.type === 'ExpireHold'
    ? { type: 'HoldReleaseRejected', data: { holdId: command.data.holdId, command: command.type, ...common } }
    : { type: 'AccountCommandRejected', data: { command: command.type, ...common } };
  return { ...result, outcome };
}
