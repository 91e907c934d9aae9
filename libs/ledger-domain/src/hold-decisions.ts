import type { CaptureHoldData, LedgerRejectionCode, PlaceHoldData, ReleaseHoldData } from '@clearline/contracts';
import { balancesOf, beyondContractRange, breachesCreditLimit, breachesDebitLimit, type OpenHold } from './account.js';
import { accepted, balancesRecord, LedgerDomainError, LedgerDraft, rejected, replayed, type LedgerResult, type LedgerState } from './ledger-state.js';
import { emitThresholdCrossings, existing, participationRejection } from './movement.js';
import { captureFingerprintOf, fingerprintOf, type HoldOutcomeEvent } from './operation-records.js';
import { positiveAmount } from './transfer-decisions.js';

/** A hold is expired from its expiry instant on: a capture at that instant is already too late. */
function isExpired(hold: OpenHold, now: Date): boolean {
  return hold.expiresAt !== undefined && now.getTime() >= instantOf(hold.expiresAt);
}

function instantOf(timestamp: string): number {
  const instant = Date.parse(timestamp);
  if (Number.isNaN(instant)) throw new LedgerDomainError(`'${timestamp}' is not a timestamp`);
  return instant;
}

/**
 * Reserves the amount on the account: available falls at once, posted stays. The hold id belongs
 * to the first PlaceHold that used it; a rejection is recorded in `hold-<id>` like an acceptance.
 */
export function decidePlaceHold(command: PlaceHoldData, state: LedgerState, now: Date): LedgerResult {
  const amountMinor = positiveAmount(command.amount.amountMinor);
  const accountIds = [command.accountId];
  const refusal = (reasonCode: LedgerRejectionCode): HoldOutcomeEvent =>
    ({ type: 'HoldRejected', data: { ...command, reasonCode, balancesAfter: balancesRecord(new LedgerDraft(state).balances(accountIds)) } });
  const record = state.holds.get(command.holdId);
  if (record !== undefined && record.status !== 'unknown') {
    if (record.fingerprint !== fingerprintOf('PlaceHold', command)) return rejected(state, 'duplicate_id_different_body', accountIds, refusal('duplicate_id_different_body'));
    return replayed(state, accountIds, record.status === 'rejected' ? record.outcome : { type: 'HoldPlaced', data: record.placed });
  }
  const reject = (reasonCode: LedgerRejectionCode) =>
    rejected(state, reasonCode, accountIds, refusal(reasonCode), [{ category: 'hold', id: command.holdId, event: refusal(reasonCode) }]);
  const draft = new LedgerDraft(state);
  const account = draft.account(command.accountId);
  const refused = participationRejection(account, command.amount.currency);
  if (refused) return reject(refused);
  // Only a caller that skips the hold stream (apps/ledger reads it first) can reach this.
  if (account.status !== 'unopened' && account.holds.has(command.holdId)) return reject('duplicate_hold_id');
  if (command.expiresAt !== undefined && now.getTime() >= instantOf(command.expiresAt)) return reject('hold_expired');
  const expiry = command.expiresAt === undefined ? {} : { expiresAt: command.expiresAt };
  draft.emit({ category: 'account', id: command.accountId, event: { type: 'AccountFundsHeld', data: { holdId: command.holdId, amountMinor: amountMinor.toString(), ...expiry } } });
  if (breachesDebitLimit(existing(draft, command.accountId))) return reject('insufficient_funds');
  if (beyondContractRange(existing(draft, command.accountId))) return reject('limit_exceeded');
  const outcome: HoldOutcomeEvent = { type: 'HoldPlaced', data: { ...command, balances: balancesOf(existing(draft, command.accountId)) } };
  draft.emit({ category: 'hold', id: command.holdId, event: outcome });
  emitThresholdCrossings(draft, accountIds, command.holdId);
  return accepted(draft, accountIds, outcome);
}

/**
 * Posts up to the held amount to the receiving account and releases the rest: a partial capture
 * ends the hold. A refused capture is not recorded (the hold stays as it was and may be captured
 * correctly later); a repeated successful one gets the first outcome back.
 */
export function decideCaptureHold(command: CaptureHoldData, state: LedgerState, now: Date): LedgerResult {
  const amountMinor = positiveAmount(command.amount.amountMinor);
  const accountIds = [command.accountId, command.creditAccountId];
  const reject = (reasonCode: LedgerRejectionCode): LedgerResult => rejected(state, reasonCode, accountIds, {
    type: 'CaptureRejected', data: { ...command, reasonCode, balancesAfter: balancesRecord(new LedgerDraft(state).balances(accountIds)) },
  });
  const record = state.holds.get(command.holdId);
  if (record?.status === 'captured') {
    return record.captureFingerprint === captureFingerprintOf(command) ? replayed(state, accountIds, record.outcome) : reject('hold_already_final');
  }
  if (record?.status === 'expired') return reject('hold_expired');
  if (record?.status === 'voided') return reject('hold_already_final');
  if (record?.status === 'rejected') return reject('hold_not_found');
  if (command.accountId === command.creditAccountId) return reject('same_account');
  const draft = new LedgerDraft(state);
  const held = draft.account(command.accountId);
  const receiving = draft.account(command.creditAccountId);
  if (held.status === 'unopened' || receiving.status === 'unopened') return reject('account_not_found');
  const refused = participationRejection(held, command.amount.currency) ?? participationRejection(receiving, command.amount.currency);
  if (refused) return reject(refused);
  const hold = held.holds.get(command.holdId);
  if (hold === undefined) return reject('hold_not_found');
  if (isExpired(hold, now)) return reject('hold_expired');
  if (amountMinor > hold.amountMinor) return reject('amount_exceeds_hold');
  const releasedMinor = hold.amountMinor - amountMinor;
  draft.emit({ category: 'account', id: command.accountId, event: { type: 'AccountHoldCaptured', data: { holdId: command.holdId, amountMinor: amountMinor.toString() } } });
  if (releasedMinor > 0n) {
    draft.emit({ category: 'account', id: command.accountId, event: { type: 'AccountHoldReleased', data: { holdId: command.holdId, amountMinor: releasedMinor.toString() } } });
  }
  draft.emit({ category: 'account', id: command.creditAccountId, event: { type: 'AccountCredited', data: { transferId: command.holdId, amountMinor: amountMinor.toString() } } });
  if (breachesDebitLimit(existing(draft, command.accountId))) throw new Error('a capture never lowers available below what the hold reserved');
  if (breachesCreditLimit(existing(draft, command.creditAccountId))) return reject('limit_exceeded');
  if (beyondContractRange(existing(draft, command.accountId)) || beyondContractRange(existing(draft, command.creditAccountId))) return reject('limit_exceeded');
  const outcome: HoldOutcomeEvent = {
    type: 'HoldCaptured',
    data: {
      ...command,
      debitBalances: balancesOf(existing(draft, command.accountId)),
      creditBalances: balancesOf(existing(draft, command.creditAccountId)),
      ...(releasedMinor > 0n ? { releasedAmountMinor: releasedMinor.toString() } : {}),
    },
  };
  draft.emit({ category: 'hold', id: command.holdId, event: outcome });
  emitThresholdCrossings(draft, accountIds, command.holdId);
  return accepted(draft, accountIds, outcome);
}

/** Releases an open hold in full. Allowed on a frozen account: it gives money back, it moves none. */
export function decideVoidHold(command: ReleaseHoldData, state: LedgerState): LedgerResult {
  const record = state.holds.get(command.holdId);
  if (record?.status === 'voided') return replayed(state, [command.accountId], record.outcome);
  return releaseHold(command, state, 'HoldVoided');
}

/** The timeout as a command: decided against `now`, so replaying it later decides the same. */
export function decideExpireHold(command: ReleaseHoldData, state: LedgerState, now: Date): LedgerResult {
  const record = state.holds.get(command.holdId);
  if (record?.status === 'expired') return replayed(state, [command.accountId], record.outcome);
  const account = state.accounts.get(command.accountId);
  const hold = account !== undefined && account.status !== 'unopened' ? account.holds.get(command.holdId) : undefined;
  if (record?.status !== 'captured' && record?.status !== 'voided' && hold !== undefined && !isExpired(hold, now)) {
    return rejected(state, 'hold_not_expired', [command.accountId]);
  }
  return releaseHold(command, state, 'HoldExpired');
}

function releaseHold(command: ReleaseHoldData, state: LedgerState, type: 'HoldVoided' | 'HoldExpired'): LedgerResult {
  const accountIds = [command.accountId];
  const record = state.holds.get(command.holdId);
  if (record?.status === 'captured' || record?.status === 'voided') return rejected(state, 'hold_already_final', accountIds);
  if (record?.status === 'expired') return rejected(state, 'hold_expired', accountIds);
  if (record?.status === 'rejected') return rejected(state, 'hold_not_found', accountIds);
  const draft = new LedgerDraft(state);
  const account = draft.account(command.accountId);
  if (account.status === 'unopened') return rejected(state, 'account_not_found', []);
  const hold = account.holds.get(command.holdId);
  if (hold === undefined) return rejected(state, 'hold_not_found', accountIds);
  const releasedAmountMinor = hold.amountMinor.toString();
  draft.emit({ category: 'account', id: command.accountId, event: { type: 'AccountHoldReleased', data: { holdId: command.holdId, amountMinor: releasedAmountMinor } } });
  const balances = balancesOf(existing(draft, command.accountId));
  let outcome: HoldOutcomeEvent = { type: 'HoldVoided', data: { ...command, releasedAmountMinor, balances } };
  if (type === 'HoldExpired') {
    // decideExpireHold lets only a hold past its expiry through, so it has one.
    if (hold.expiresAt === undefined) throw new Error(`hold '${command.holdId}' has no expiry to expire at`);
    outcome = { type, data: { ...command, releasedAmountMinor, balances, expiresAt: hold.expiresAt } };
  }
  draft.emit({ category: 'hold', id: command.holdId, event: outcome });
  emitThresholdCrossings(draft, accountIds, command.holdId);
  return accepted(draft, accountIds, outcome);
}
