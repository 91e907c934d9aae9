import type { LedgerRejectionCode, MonitoredBalance } from '@clearline/contracts';
import {
  availableMinor, balancesOf, beyondContractRange, breachesCreditLimit, breachesDebitLimit, type AccountState, type ExistingAccountState,
} from './account.js';
import type { LedgerDraft } from './ledger-state.js';

/** One leg of money movement: debit one account, credit another, by the same amount in one currency. */
export interface MovementRequest {
  transferId: string;
  debitAccountId: string;
  creditAccountId: string;
  currency: string;
  amountMinor: bigint;
}

/**
 * Why an account may not take part in a movement in `currency`, checked in a stable order so the
 * same state always gives the same code: existence, closure, freeze, then currency.
 */
export function participationRejection(account: AccountState, currency: string): LedgerRejectionCode | undefined {
  if (account.status === 'unopened') return 'account_not_found';
  if (account.status === 'closed') return 'account_closed';
  if (account.status === 'frozen') return 'account_frozen';
  if (account.currency !== currency) return 'currency_mismatch';
  return undefined;
}

/**
 * Posts one leg into the draft, or says why not. Limits are checked on the states after the leg:
 * the debited account against its debit rule (insufficient_funds), the credited one against its
 * credit rule (limit_exceeded). Each side is checked only in the direction it moved, so a credit
 * never fails for a debit rule and the other way round. Last, no balance may leave the contracts'
 * range (limit_exceeded): its outcome could not be published.
 */
export function postMovement(draft: LedgerDraft, leg: MovementRequest): LedgerRejectionCode | undefined {
  if (leg.debitAccountId === leg.creditAccountId) return 'same_account';
  const debit = draft.account(leg.debitAccountId);
  const credit = draft.account(leg.creditAccountId);
  if (debit.status === 'unopened' || credit.status === 'unopened') return 'account_not_found';
  const refusal = participationRejection(debit, leg.currency) ?? participationRejection(credit, leg.currency);
  if (refusal) return refusal;
  const amountMinor = leg.amountMinor.toString();
  draft.emit({ category: 'account', id: leg.debitAccountId, event: { type: 'AccountDebited', data: { transferId: leg.transferId, amountMinor } } });
  draft.emit({ category: 'account', id: leg.creditAccountId, event: { type: 'AccountCredited', data: { transferId: leg.transferId, amountMinor } } });
  if (breachesDebitLimit(existing(draft, leg.debitAccountId))) return 'insufficient_funds';
  if (breachesCreditLimit(existing(draft, leg.creditAccountId))) return 'limit_exceeded';
  if (beyondContractRange(existing(draft, leg.debitAccountId)) || beyondContractRange(existing(draft, leg.creditAccountId))) return 'limit_exceeded';
  return undefined;
}

export function existing(draft: LedgerDraft, accountId: string): ExistingAccountState {
  const account = draft.account(accountId);
  // The deciders only ask for accounts they have already found open: anything else is a bug here.
  if (account.status === 'unopened') throw new Error(`account '${accountId}' was expected to exist`);
  return account;
}

function monitoredMinor(account: ExistingAccountState, balance: MonitoredBalance): bigint {
  return balance === 'posted' ? account.postedMinor : availableMinor(account);
}

/**
 * Emits BalanceThresholdCrossed for every monitor whose balance crossed its threshold between the
 * state before the command and the state after it. A batch is one step: its intermediate balances
 * were never visible, so they cannot cross anything. 'below' fires on going from at-or-above to
 * below; 'above' on going from at-or-below to above.
 */
export function emitThresholdCrossings(draft: LedgerDraft, accountIds: Iterable<string>, causedBy: string): void {
  for (const accountId of new Set(accountIds)) {
    const before = draft.before.accounts.get(accountId);
    const after = draft.account(accountId);
    if (before === undefined || before.status === 'unopened' || after.status === 'unopened') continue;
    for (const [monitorId, monitor] of after.monitors) {
      const previousMinor = monitoredMinor(before, monitor.balance);
      const currentMinor = monitoredMinor(after, monitor.balance);
      const crossed = monitor.direction === 'below'
        ? previousMinor >= monitor.thresholdMinor && currentMinor < monitor.thresholdMinor
        : previousMinor <= monitor.thresholdMinor && currentMinor > monitor.thresholdMinor;
      if (!crossed) continue;
      draft.emit({
        category: 'account',
        id: accountId,
        event: {
          type: 'BalanceThresholdCrossed',
          data: {
            monitorId, accountId, balance: monitor.balance, direction: monitor.direction, thresholdMinor: monitor.thresholdMinor.toString(),
            previousMinor: previousMinor.toString(), currentMinor: currentMinor.toString(), causedBy, balances: balancesOf(after),
          },
        },
      });
    }
  }
}
