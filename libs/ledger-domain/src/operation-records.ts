import {
  canonicalJson,
  type CaptureHoldData, type CaptureRejectedData, type CurrencyExchangedData, type CurrencyExchangeRejectedData, type HoldCapturedData,
  type HoldExpiredData, type HoldPlacedData, type HoldRejectedData, type HoldReleasedData, type LinkedTransfersPostedData,
  type LinkedTransfersRejectedData, type TransferPostedData, type TransferRejectedData, type TransferReversalRejectedData, type TransferReversedData,
} from '@clearline/contracts';

/**
 * The state of one transfer id (`transfer-<id>` stream) and one hold id (`hold-<id>` stream). An id
 * belongs to the first command that used it: its state keeps that command's fingerprint and outcome,
 * so a repeat with the same body gets the first outcome back and a different body is refused.
 *
 * The fingerprint is the canonical JSON of the command's type and body, read back from the outcome
 * event (every outcome carries its command's fields): nothing extra is stored, and the same rule
 * recomputes it on replay. It is compared, never hashed: bodies are bounded by their contracts.
 */

/** A posted movement that may be reversed: one debit and one credit of the same amount in one currency. */
export interface Movement {
  debitAccountId: string;
  creditAccountId: string;
  currency: string;
  amountMinor: bigint;
}

export interface ReversalAppliedData {
  originalTransferId: string;
  reversalTransferId: string;
  amountMinor: string;
}

export type TransferOutcomeEvent =
  | { type: 'TransferPosted'; data: TransferPostedData }
  | { type: 'TransferRejected'; data: TransferRejectedData }
  | { type: 'LinkedTransfersPosted'; data: LinkedTransfersPostedData }
  | { type: 'LinkedTransfersRejected'; data: LinkedTransfersRejectedData }
  | { type: 'CurrencyExchanged'; data: CurrencyExchangedData }
  | { type: 'CurrencyExchangeRejected'; data: CurrencyExchangeRejectedData }
  | { type: 'TransferReversed'; data: TransferReversedData }
  | { type: 'TransferReversalRejected'; data: TransferReversalRejectedData };

/** Events of `transfer-<id>` streams: the first outcome, then a marker per reversal of it. */
export type TransferEvent = TransferOutcomeEvent | { type: 'TransferReversalApplied'; data: ReversalAppliedData };

export type HoldOutcomeEvent =
  | { type: 'HoldPlaced'; data: HoldPlacedData }
  | { type: 'HoldRejected'; data: HoldRejectedData }
  | { type: 'HoldCaptured'; data: HoldCapturedData }
  | { type: 'CaptureRejected'; data: CaptureRejectedData }
  | { type: 'HoldVoided'; data: HoldReleasedData }
  | { type: 'HoldExpired'; data: HoldExpiredData };

/** Events of `hold-<id>` streams. CaptureRejected may be stored there (apps/ledger used to; it now answers refused captures on `ledger_reply-<messageId>`) but changes nothing. */
export type HoldEvent = HoldOutcomeEvent | { type: 'TransferReversalApplied'; data: ReversalAppliedData };

export type TransferState =
  | { status: 'unknown' }
  | { status: 'decided'; fingerprint: string; outcome: TransferOutcomeEvent; movement?: Movement; reversedMinor: bigint };

type PlacedHold = { fingerprint: string; placed: HoldPlacedData };
export type HoldState =
  | { status: 'unknown' }
  | { status: 'rejected'; fingerprint: string; outcome: { type: 'HoldRejected'; data: HoldRejectedData } }
  | ({ status: 'open' } & PlacedHold)
  | ({ status: 'captured'; captureFingerprint: string; outcome: { type: 'HoldCaptured'; data: HoldCapturedData }; movement: Movement; reversedMinor: bigint } & PlacedHold)
  | ({ status: 'voided'; outcome: { type: 'HoldVoided'; data: HoldReleasedData } } & PlacedHold)
  | ({ status: 'expired'; outcome: { type: 'HoldExpired'; data: HoldExpiredData } } & PlacedHold);

export function initialTransferState(): TransferState {
  return { status: 'unknown' };
}

export function initialHoldState(): HoldState {
  return { status: 'unknown' };
}

const COMMAND_FIELDS = {
  PostTransfer: ['transferId', 'debitAccountId', 'creditAccountId', 'amount'],
  PostLinkedTransfers: ['batchId', 'transfers'],
  ExchangeCurrency: ['transferId', 'debitAccountId', 'creditAccountId', 'fxSourceAccountId', 'fxTargetAccountId', 'amount', 'targetCurrency', 'rate'],
  ReverseTransfer: ['transferId', 'originalTransferId', 'amount'],
  PlaceHold: ['holdId', 'accountId', 'amount', 'paymentId', 'expiresAt'],
  CaptureHold: ['holdId', 'accountId', 'creditAccountId', 'amount', 'paymentId'],
} as const;

export type FingerprintedCommand = keyof typeof COMMAND_FIELDS;

/** The command's identity for idempotency: its type and the fields of its body, key order and extras ignored. */
export function fingerprintOf(commandType: FingerprintedCommand, data: object): string {
  const fields = data as Record<string, unknown>;
  return canonicalJson({ command: commandType, data: Object.fromEntries(COMMAND_FIELDS[commandType].map((field) => [field, fields[field]])) });
}

const OUTCOME_COMMAND: Record<TransferOutcomeEvent['type'], FingerprintedCommand> = {
  TransferPosted: 'PostTransfer',
  TransferRejected: 'PostTransfer',
  LinkedTransfersPosted: 'PostLinkedTransfers',
  LinkedTransfersRejected: 'PostLinkedTransfers',
  CurrencyExchanged: 'ExchangeCurrency',
  CurrencyExchangeRejected: 'ExchangeCurrency',
  TransferReversed: 'ReverseTransfer',
  TransferReversalRejected: 'ReverseTransfer',
};

export function evolveTransfer(state: TransferState, event: TransferEvent): TransferState {
  if (event.type === 'TransferReversalApplied') {
    if (state.status !== 'decided') return state;
    return { ...state, reversedMinor: state.reversedMinor + BigInt(event.data.amountMinor) };
  }
  // The first outcome owns the id; a later one cannot be appended by the deciders, and evolve never throws.
  if (state.status === 'decided') return state;
  return { status: 'decided', fingerprint: fingerprintOf(OUTCOME_COMMAND[event.type], event.data), outcome: event, ...movementOf(event), reversedMinor: 0n };
}

function movementOf(event: TransferOutcomeEvent): { movement?: Movement } {
  switch (event.type) {
    case 'TransferPosted':
    case 'TransferReversed': {
      const { debitAccountId, creditAccountId, amount } = event.data;
      return { movement: { debitAccountId, creditAccountId, currency: amount.currency, amountMinor: BigInt(amount.amountMinor) } };
    }
    // A batch is reversed leg by leg (each leg has its own stream); an exchange by exchanging back at a new rate.
    case 'LinkedTransfersPosted':
    case 'CurrencyExchanged':
    case 'TransferRejected':
    case 'LinkedTransfersRejected':
    case 'CurrencyExchangeRejected':
    case 'TransferReversalRejected':
      return {};
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

export function evolveHold(state: HoldState, event: HoldEvent): HoldState {
  switch (event.type) {
    case 'HoldPlaced':
      return state.status === 'unknown' ? { status: 'open', fingerprint: fingerprintOf('PlaceHold', event.data), placed: event.data } : state;
    case 'HoldRejected':
      return state.status === 'unknown' ? { status: 'rejected', fingerprint: fingerprintOf('PlaceHold', event.data), outcome: event } : state;
    case 'HoldCaptured': {
      if (state.status !== 'open') return state;
      const { accountId, creditAccountId, amount } = event.data;
      return {
        status: 'captured',
        fingerprint: state.fingerprint,
        placed: state.placed,
        captureFingerprint: captureFingerprintOf(event.data),
        outcome: event,
        movement: { debitAccountId: accountId, creditAccountId, currency: amount.currency, amountMinor: BigInt(amount.amountMinor) },
        reversedMinor: 0n,
      };
    }
    case 'CaptureRejected':
      return state;
    case 'HoldVoided':
      return state.status === 'open' ? { status: 'voided', fingerprint: state.fingerprint, placed: state.placed, outcome: event } : state;
    case 'HoldExpired':
      return state.status === 'open' ? { status: 'expired', fingerprint: state.fingerprint, placed: state.placed, outcome: event } : state;
    case 'TransferReversalApplied':
      return state.status === 'captured' ? { ...state, reversedMinor: state.reversedMinor + BigInt(event.data.amountMinor) } : state;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}

export function captureFingerprintOf(command: CaptureHoldData): string {
  return fingerprintOf('CaptureHold', command);
}
