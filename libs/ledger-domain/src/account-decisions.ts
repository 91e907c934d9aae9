import {
  ACCOUNT_METADATA_MAX_ENTRIES, ACCOUNT_METADATA_VALUE_MAX_LENGTH, canonicalJson, MAX_BALANCE_MONITORS_PER_ACCOUNT,
  type AccountReferenceData, type ModifyAccountData, type OpenAccountData, type RegisterBalanceMonitorData,
} from '@clearline/contracts';
import {
  accountTermsOf, breachesCreditLimit, breachesDebitLimit, openedAccountData, type AccountTerms, type ExistingAccountState,
} from './account.js';
import { accepted, LedgerDomainError, LedgerDraft, rejected, replayed, type LedgerResult, type LedgerState } from './ledger-state.js';

/** Opening the same account again with the same terms is a retry; with other terms, account_already_exists. */
export function decideOpenAccount(command: OpenAccountData, state: LedgerState): LedgerResult {
  const terms = validOpeningTerms(command);
  const draft = new LedgerDraft(state);
  const existing = draft.account(command.accountId);
  if (existing.status !== 'unopened') {
    if (sameTerms(existing, terms)) return replayed(state, [command.accountId]);
    return rejected(state, 'account_already_exists', [command.accountId]);
  }
  draft.emit({ category: 'account', id: command.accountId, event: { type: 'AccountOpened', data: openedAccountData(terms) } });
  return accepted(draft, [command.accountId]);
}

function validOpeningTerms(command: OpenAccountData): AccountTerms {
  const where = `cannot open account '${command.accountId}'`;
  if (command.debitsMustNotExceedCredits === true && command.creditsMustNotExceedDebits === true) {
    throw new LedgerDomainError(`${where}: debitsMustNotExceedCredits and creditsMustNotExceedDebits exclude each other`);
  }
  const terms = accountTermsOf(command);
  if (command.allowNegativeBalance !== undefined) {
    const flagsAllowNegative = !terms.debitsMustNotExceedCredits;
    if (command.allowNegativeBalance !== flagsAllowNegative) {
      throw new LedgerDomainError(`${where}: allowNegativeBalance ${command.allowNegativeBalance} contradicts the balance flags`);
    }
  }
  assertLimitsFitFlags(where, terms);
  assertBoundedMetadata(where, terms.metadata);
  return terms;
}

function assertLimitsFitFlags(where: string, terms: Pick<AccountTerms, 'debitsMustNotExceedCredits' | 'creditsMustNotExceedDebits' | 'overdraftLimitMinor' | 'creditLimitMinor'>): void {
  if (terms.overdraftLimitMinor < 0n || terms.creditLimitMinor < 0n) throw new LedgerDomainError(`${where}: limits are never negative`);
  if (terms.overdraftLimitMinor > 0n && !terms.debitsMustNotExceedCredits) {
    throw new LedgerDomainError(`${where}: an overdraft limit needs debitsMustNotExceedCredits`);
  }
  if (terms.creditLimitMinor > 0n && !terms.creditsMustNotExceedDebits) {
    throw new LedgerDomainError(`${where}: a credit limit needs creditsMustNotExceedDebits`);
  }
}

/** The contract's schema bounds metadata too; this guards callers that skip it (tests, a batching writer). */
function assertBoundedMetadata(where: string, metadata: Readonly<Record<string, string>>): void {
  const entries = Object.entries(metadata);
  if (entries.length > ACCOUNT_METADATA_MAX_ENTRIES) throw new LedgerDomainError(`${where}: at most ${ACCOUNT_METADATA_MAX_ENTRIES} metadata entries`);
  for (const [key, value] of entries) {
    if (typeof value !== 'string' || value.length > ACCOUNT_METADATA_VALUE_MAX_LENGTH) {
      throw new LedgerDomainError(`${where}: metadata '${key}' must be a string of at most ${ACCOUNT_METADATA_VALUE_MAX_LENGTH} characters`);
    }
  }
}

function sameTerms(account: ExistingAccountState, terms: AccountTerms): boolean {
  return account.ownerId === terms.ownerId && account.kind === terms.kind && account.currency === terms.currency
    && account.debitsMustNotExceedCredits === terms.debitsMustNotExceedCredits
    && account.creditsMustNotExceedDebits === terms.creditsMustNotExceedDebits
    && account.overdraftLimitMinor === terms.overdraftLimitMinor && account.creditLimitMinor === terms.creditLimitMinor
    && canonicalJson(account.metadata) === canonicalJson(terms.metadata);
}

/** A limit may not be lowered below what the account already uses: no account ever passes its limit. */
export function decideModifyAccount(command: ModifyAccountData, state: LedgerState): LedgerResult {
  const draft = new LedgerDraft(state);
  const account = draft.account(command.accountId);
  if (account.status === 'unopened') return rejected(state, 'account_not_found', []);
  if (account.status === 'closed') return rejected(state, 'account_closed', [command.accountId]);
  const changed = {
    overdraftLimitMinor: command.overdraftLimitMinor === undefined ? account.overdraftLimitMinor : BigInt(command.overdraftLimitMinor),
    creditLimitMinor: command.creditLimitMinor === undefined ? account.creditLimitMinor : BigInt(command.creditLimitMinor),
    metadata: command.metadata === undefined ? account.metadata : { ...command.metadata },
  };
  const where = `cannot modify account '${command.accountId}'`;
  assertLimitsFitFlags(where, { ...account, ...changed });
  assertBoundedMetadata(where, changed.metadata);
  if (changed.overdraftLimitMinor === account.overdraftLimitMinor && changed.creditLimitMinor === account.creditLimitMinor
    && canonicalJson(changed.metadata) === canonicalJson(account.metadata)) {
    return replayed(state, [command.accountId]);
  }
  const after = { ...account, ...changed };
  if (breachesDebitLimit(after) || breachesCreditLimit(after)) return rejected(state, 'limit_exceeded', [command.accountId]);
  draft.emit({
    category: 'account',
    id: command.accountId,
    event: {
      type: 'AccountModified',
      data: {
        accountId: command.accountId,
        overdraftLimitMinor: changed.overdraftLimitMinor.toString(),
        creditLimitMinor: changed.creditLimitMinor.toString(),
        metadata: { ...changed.metadata },
      },
    },
  });
  return accepted(draft, [command.accountId]);
}

export function decideFreezeAccount(command: AccountReferenceData, state: LedgerState): LedgerResult {
  const account = state.accounts.get(command.accountId);
  if (account === undefined || account.status === 'unopened') return rejected(state, 'account_not_found', []);
  if (account.status === 'closed') return rejected(state, 'account_closed', [command.accountId]);
  if (account.status === 'frozen') return replayed(state, [command.accountId]);
  return acceptedAccountEvent(state, { type: 'AccountFrozen', data: { accountId: command.accountId } });
}

export function decideUnfreezeAccount(command: AccountReferenceData, state: LedgerState): LedgerResult {
  const account = state.accounts.get(command.accountId);
  if (account === undefined || account.status === 'unopened') return rejected(state, 'account_not_found', []);
  if (account.status === 'closed') return rejected(state, 'account_closed', [command.accountId]);
  if (account.status === 'open') return replayed(state, [command.accountId]);
  return acceptedAccountEvent(state, { type: 'AccountUnfrozen', data: { accountId: command.accountId } });
}

/** Closing is the seed's "delete": only an empty account closes, and its streams stay. */
export function decideCloseAccount(command: AccountReferenceData, state: LedgerState): LedgerResult {
  const account = state.accounts.get(command.accountId);
  if (account === undefined || account.status === 'unopened') return rejected(state, 'account_not_found', []);
  if (account.status === 'closed') return replayed(state, [command.accountId]);
  if (account.holds.size > 0) return rejected(state, 'account_has_open_holds', [command.accountId]);
  if (account.postedMinor !== 0n) return rejected(state, 'account_has_balance', [command.accountId]);
  return acceptedAccountEvent(state, { type: 'AccountClosed', data: { accountId: command.accountId } });
}

export function decideRegisterBalanceMonitor(command: RegisterBalanceMonitorData, state: LedgerState): LedgerResult {
  const account = state.accounts.get(command.accountId);
  if (account === undefined || account.status === 'unopened') return rejected(state, 'account_not_found', []);
  if (account.status === 'closed') return rejected(state, 'account_closed', [command.accountId]);
  const existing = account.monitors.get(command.monitorId);
  if (existing !== undefined) {
    const same = existing.balance === command.balance && existing.direction === command.direction && existing.thresholdMinor === BigInt(command.thresholdMinor);
    return same ? replayed(state, [command.accountId]) : rejected(state, 'duplicate_id_different_body', [command.accountId]);
  }
  if (account.monitors.size >= MAX_BALANCE_MONITORS_PER_ACCOUNT) return rejected(state, 'monitor_limit_reached', [command.accountId]);
  const { monitorId, accountId, balance, direction, thresholdMinor } = command;
  return acceptedAccountEvent(state, { type: 'BalanceMonitorRegistered', data: { monitorId, accountId, balance, direction, thresholdMinor } });
}

function acceptedAccountEvent(state: LedgerState, event: Extract<Parameters<LedgerDraft['emit']>[0], { category: 'account' }>['event'] & { data: { accountId: string } }): LedgerResult {
  const draft = new LedgerDraft(state);
  draft.emit({ category: 'account', id: event.data.accountId, event });
  return accepted(draft, [event.data.accountId]);
}
