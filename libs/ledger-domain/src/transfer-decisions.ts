import {
  EXCHANGE_ROUNDING, MAX_LINKED_TRANSFERS, MAX_MINOR_UNITS,
  type ExchangeCurrencyData, type LedgerRejectionCode, type PostLinkedTransfersData, type PostTransferData, type ReverseTransferData,
} from '@clearline/contracts';
import { isCurrencyCode, moneyFromMinor, rateConvert } from '@clearline/money';
import { balancesOf } from './account.js';
import {
  accepted, balancesRecord, LedgerDomainError, LedgerDraft, rejected, replayed, type LedgerEvent, type LedgerResult, type LedgerState,
} from './ledger-state.js';
import { emitThresholdCrossings, existing, postMovement, type MovementRequest } from './movement.js';
import { fingerprintOf, type FingerprintedCommand, type Movement, type TransferOutcomeEvent } from './operation-records.js';

/** Amounts reach the deciders already checked by the contracts; a non-positive one is a programming error. */
export function positiveAmount(amountMinor: string): bigint {
  const amount = BigInt(amountMinor);
  if (amount <= 0n) throw new LedgerDomainError(`amounts must be positive minor units, got ${amountMinor}`);
  return amount;
}

/**
 * An id already decided: the same body gets the first outcome back (nothing appended), another
 * body is refused with duplicate_id_different_body and recorded nowhere, since the id's stream
 * belongs to the first command. Undefined when the id is new.
 */
function repeatOf(
  state: LedgerState, transferId: string, commandType: FingerprintedCommand, command: object,
  refusal: (reasonCode: LedgerRejectionCode) => TransferOutcomeEvent, accountIds: string[],
): LedgerResult | undefined {
  const record = state.transfers.get(transferId);
  if (record === undefined || record.status === 'unknown') return undefined;
  if (record.fingerprint === fingerprintOf(commandType, command)) return replayed(state, accountIds, record.outcome);
  return rejected(state, 'duplicate_id_different_body', accountIds, refusal('duplicate_id_different_body'));
}

/** A refusal that owns its id is recorded in the id's stream, so a retry gets the same answer. */
function recordedRejection(state: LedgerState, transferId: string, reasonCode: LedgerRejectionCode, accountIds: string[], outcome: TransferOutcomeEvent): LedgerResult {
  return rejected(state, reasonCode, accountIds, outcome, [{ category: 'transfer', id: transferId, event: outcome }]);
}

export function decidePostTransfer(command: PostTransferData, state: LedgerState): LedgerResult {
  const amountMinor = positiveAmount(command.amount.amountMinor);
  const accountIds = [command.debitAccountId, command.creditAccountId];
  const before = balancesRecord(new LedgerDraft(state).balances(accountIds));
  const refusal = (reasonCode: LedgerRejectionCode): TransferOutcomeEvent => ({ type: 'TransferRejected', data: { ...command, reasonCode, balancesAfter: before } });
  const repeat = repeatOf(state, command.transferId, 'PostTransfer', command, refusal, accountIds);
  if (repeat) return repeat;
  const draft = new LedgerDraft(state);
  const reasonCode = postMovement(draft, { ...command, currency: command.amount.currency, amountMinor });
  if (reasonCode) return recordedRejection(state, command.transferId, reasonCode, accountIds, refusal(reasonCode));
  const outcome = transferPosted(draft, command);
  draft.emit({ category: 'transfer', id: command.transferId, event: outcome });
  emitThresholdCrossings(draft, accountIds, command.transferId);
  return accepted(draft, accountIds, outcome);
}

function transferPosted(draft: LedgerDraft, command: PostTransferData): Extract<TransferOutcomeEvent, { type: 'TransferPosted' }> {
  return {
    type: 'TransferPosted',
    data: {
      ...command,
      debitBalances: balancesOf(existing(draft, command.debitAccountId)),
      creditBalances: balancesOf(existing(draft, command.creditAccountId)),
    },
  };
}

/**
 * All legs in order or none. Each leg is also a transfer in its own right: its id must be new, and
 * it gets its own TransferPosted (so it can be reversed on its own); the batch id records the whole.
 */
export function decidePostLinkedTransfers(command: PostLinkedTransfersData, state: LedgerState): LedgerResult {
  assertWellFormedBatch(command);
  const accountIds = [...new Set(command.transfers.flatMap((leg) => [leg.debitAccountId, leg.creditAccountId]))];
  const before = balancesRecord(new LedgerDraft(state).balances(accountIds));
  const refusal = (reasonCode: LedgerRejectionCode, failedTransferIndex = 0): TransferOutcomeEvent =>
    ({ type: 'LinkedTransfersRejected', data: { ...command, failedTransferIndex, reasonCode, balancesAfter: before } });
  const repeat = repeatOf(state, command.batchId, 'PostLinkedTransfers', command, refusal, accountIds);
  if (repeat) return repeat;
  const draft = new LedgerDraft(state);
  for (const [index, leg] of command.transfers.entries()) {
    const reasonCode = draft.transfer(leg.transferId).status === 'unknown'
      ? postMovement(draft, { ...leg, currency: leg.amount.currency, amountMinor: positiveAmount(leg.amount.amountMinor) })
      : 'duplicate_id_different_body';
    if (reasonCode) return recordedRejection(state, command.batchId, reasonCode, accountIds, refusal(reasonCode, index));
    draft.emit({ category: 'transfer', id: leg.transferId, event: transferPosted(draft, leg) });
  }
  const outcome: TransferOutcomeEvent = { type: 'LinkedTransfersPosted', data: { ...command, balancesAfter: balancesRecord(draft.balances(accountIds)) } };
  draft.emit({ category: 'transfer', id: command.batchId, event: outcome });
  emitThresholdCrossings(draft, accountIds, command.batchId);
  return accepted(draft, accountIds, outcome);
}

function assertWellFormedBatch(command: PostLinkedTransfersData): void {
  const count = command.transfers.length;
  if (count === 0 || count > MAX_LINKED_TRANSFERS) {
    throw new LedgerDomainError(`a linked batch holds 1 to ${MAX_LINKED_TRANSFERS} transfers, got ${count}`);
  }
  const ids = new Set([command.batchId, ...command.transfers.map((leg) => leg.transferId)]);
  if (ids.size !== count + 1) throw new LedgerDomainError(`batch '${command.batchId}' repeats a transfer id (or uses its own id for a transfer)`);
}

/**
 * Cross-currency as a linked pair: payer -> source FX account in the source currency, then target
 * FX account -> receiver in the target currency. Each leg balances within its own currency, so the
 * per-currency sums stay zero; the FX accounts carry the position. The target amount is
 * `rateConvert` from @clearline/money: amount x numerator x 10^targetExponent /
 * (denominator x 10^sourceExponent), exact in bigints, rounded once half-even.
 */
export function decideExchangeCurrency(command: ExchangeCurrencyData, state: LedgerState): LedgerResult {
  const amountMinor = positiveAmount(command.amount.amountMinor);
  const targetMinor = convertedAmountMinor(command, amountMinor);
  const accountIds = [command.debitAccountId, command.fxSourceAccountId, command.fxTargetAccountId, command.creditAccountId];
  const before = balancesRecord(new LedgerDraft(state).balances(accountIds));
  const refusal = (reasonCode: LedgerRejectionCode): TransferOutcomeEvent =>
    ({ type: 'CurrencyExchangeRejected', data: { ...command, reasonCode, balancesAfter: before } });
  const repeat = repeatOf(state, command.transferId, 'ExchangeCurrency', command, refusal, accountIds);
  if (repeat) return repeat;
  if (targetMinor === 0n) return recordedRejection(state, command.transferId, 'amount_rounds_to_zero', accountIds, refusal('amount_rounds_to_zero'));
  // A target amount the contracts cannot carry: CurrencyExchanged could not be published.
  if (targetMinor > MAX_MINOR_UNITS) return recordedRejection(state, command.transferId, 'limit_exceeded', accountIds, refusal('limit_exceeded'));
  const legs: MovementRequest[] = [
    { transferId: command.transferId, debitAccountId: command.debitAccountId, creditAccountId: command.fxSourceAccountId, currency: command.amount.currency, amountMinor },
    { transferId: command.transferId, debitAccountId: command.fxTargetAccountId, creditAccountId: command.creditAccountId, currency: command.targetCurrency, amountMinor: targetMinor },
  ];
  const draft = new LedgerDraft(state);
  for (const leg of legs) {
    const reasonCode = postMovement(draft, leg);
    if (reasonCode) return recordedRejection(state, command.transferId, reasonCode, accountIds, refusal(reasonCode));
  }
  const outcome: TransferOutcomeEvent = {
    type: 'CurrencyExchanged',
    data: {
      ...command,
      targetAmount: { amountMinor: targetMinor.toString(), currency: command.targetCurrency },
      rounding: EXCHANGE_ROUNDING,
      balancesAfter: balancesRecord(draft.balances(accountIds)),
    },
  };
  draft.emit({ category: 'transfer', id: command.transferId, event: outcome });
  emitThresholdCrossings(draft, accountIds, command.transferId);
  return accepted(draft, accountIds, outcome);
}

function convertedAmountMinor(command: ExchangeCurrencyData, amountMinor: bigint): bigint {
  const source = command.amount.currency;
  const target = command.targetCurrency;
  if (!isCurrencyCode(source) || !isCurrencyCode(target)) throw new LedgerDomainError(`cannot exchange ${source} to ${target}: not an ISO 4217 payment currency`);
  if (source === target) throw new LedgerDomainError(`cannot exchange ${source} to itself: use PostTransfer`);
  const rate = { numerator: positiveAmount(command.rate.numerator), denominator: positiveAmount(command.rate.denominator) };
  return rateConvert(moneyFromMinor(amountMinor, source), target, rate, EXCHANGE_ROUNDING).amountMinor;
}

/**
 * A reversal (refund, chargeback) is a new transfer the other way along a posted transfer or a
 * captured hold, never more in total than the original moved. The original's stream gets a
 * TransferReversalApplied so the next reversal sees what is left.
 */
export function decideReverseTransfer(command: ReverseTransferData, state: LedgerState): LedgerResult {
  const amountMinor = positiveAmount(command.amount.amountMinor);
  const original = reversibleOriginal(state, command.originalTransferId);
  const accountIds = original.movement ? [original.movement.creditAccountId, original.movement.debitAccountId] : [];
  const before = balancesRecord(new LedgerDraft(state).balances(accountIds));
  const refusal = (reasonCode: LedgerRejectionCode): TransferOutcomeEvent =>
    ({ type: 'TransferReversalRejected', data: { ...command, reasonCode, balancesAfter: before } });
  const repeat = repeatOf(state, command.transferId, 'ReverseTransfer', command, refusal, accountIds);
  if (repeat) return repeat;
  const reject = (reasonCode: LedgerRejectionCode) => recordedRejection(state, command.transferId, reasonCode, accountIds, refusal(reasonCode));
  if (!original.movement) return reject(original.reasonCode);
  const { movement, reversedMinor, category } = original;
  if (command.amount.currency !== movement.currency) return reject('currency_mismatch');
  if (amountMinor > movement.amountMinor - reversedMinor) return reject('reversal_exceeds_original');
  const draft = new LedgerDraft(state);
  const reasonCode = postMovement(draft, {
    transferId: command.transferId, debitAccountId: movement.creditAccountId, creditAccountId: movement.debitAccountId, currency: movement.currency, amountMinor,
  });
  if (reasonCode) return reject(reasonCode);
  const applied: LedgerEvent['event'] = {
    type: 'TransferReversalApplied',
    data: { originalTransferId: command.originalTransferId, reversalTransferId: command.transferId, amountMinor: amountMinor.toString() },
  };
  draft.emit(category === 'transfer'
    ? { category, id: command.originalTransferId, event: applied as Extract<LedgerEvent, { category: 'transfer' }>['event'] }
    : { category, id: command.originalTransferId, event: applied as Extract<LedgerEvent, { category: 'hold' }>['event'] });
  const outcome: TransferOutcomeEvent = {
    type: 'TransferReversed',
    data: { ...command, debitAccountId: movement.creditAccountId, creditAccountId: movement.debitAccountId, balancesAfter: balancesRecord(draft.balances(accountIds)) },
  };
  draft.emit({ category: 'transfer', id: command.transferId, event: outcome });
  emitThresholdCrossings(draft, accountIds, command.transferId);
  return accepted(draft, accountIds, outcome);
}

type ReversibleOriginal =
  | { movement: Movement; reversedMinor: bigint; category: 'transfer' | 'hold' }
  | { movement?: undefined; reasonCode: LedgerRejectionCode };

function reversibleOriginal(state: LedgerState, originalTransferId: string): ReversibleOriginal {
  const transfer = state.transfers.get(originalTransferId);
  if (transfer?.status === 'decided') {
    return transfer.movement
      ? { movement: transfer.movement, reversedMinor: transfer.reversedMinor, category: 'transfer' }
      : { reasonCode: 'transfer_not_reversible' };
  }
  const hold = state.holds.get(originalTransferId);
  if (hold === undefined || hold.status === 'unknown') return { reasonCode: 'transfer_not_found' };
  if (hold.status !== 'captured') return { reasonCode: 'transfer_not_reversible' };
  return { movement: hold.movement, reversedMinor: hold.reversedMinor, category: 'hold' };
}
