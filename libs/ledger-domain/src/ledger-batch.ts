import type { AccountState } from './account.js';
import { decideLedger, type LedgerCommand } from './ledger.js';
import { streamIdOf, type LedgerResult, type LedgerState } from './ledger-state.js';
import type { HoldState, TransferState } from './operation-records.js';

/**
 * Folding a batch of commands over the ledger held in memory, for a single writer that appends a
 * whole batch at once (apps/ledger's LedgerBatchWriter). Pure: the writer loads the streams, hands
 * them over through a {@link LedgerStreamSource}, and appends what the batch wrote.
 *
 * Each command is decided by `decideLedger` against a LedgerState of just the streams it touches,
 * taken from the batch's working copy: later commands see earlier ones' effects, and a command that
 * is rejected or throws changes nothing but what its own result records. Nothing is copied per
 * command but those few streams, so a batch costs the same whether the ledger has ten accounts or
 * a million.
 */

/** The ids of the streams one command reads (and may write): `account-<id>`, `transfer-<id>`, `hold-<id>`. */
export interface StreamsNamed {
  accounts: string[];
  transfers: string[];
  holds: string[];
}

/**
 * The streams a command names. A reversal names only the original: its accounts are known once the
 * original is read (see {@link reversedAccounts}).
 */
export function streamsNamedBy(command: LedgerCommand): StreamsNamed {
  const none: StreamsNamed = { accounts: [], transfers: [], holds: [] };
  switch (command.type) {
    case 'OpenAccount':
    case 'ModifyAccount':
    case 'FreezeAccount':
    case 'UnfreezeAccount':
    case 'CloseAccount':
    case 'RegisterBalanceMonitor':
      return { ...none, accounts: [command.data.accountId] };
    case 'PostTransfer':
      return { ...none, accounts: [command.data.debitAccountId, command.data.creditAccountId], transfers: [command.data.transferId] };
    case 'PostLinkedTransfers': {
      const legs = command.data.transfers;
      return {
        ...none,
        accounts: legs.flatMap((leg) => [leg.debitAccountId, leg.creditAccountId]),
        transfers: [command.data.batchId, ...legs.map((leg) => leg.transferId)],
      };
    }
    case 'ExchangeCurrency': {
      const { debitAccountId, creditAccountId, fxSourceAccountId, fxTargetAccountId, transferId } = command.data;
      return { ...none, accounts: [debitAccountId, fxSourceAccountId, fxTargetAccountId, creditAccountId], transfers: [transferId] };
    }
    case 'ReverseTransfer':
      // The original is a transfer (or a leg, or a reversal) or a captured hold: both are read.
      return { ...none, transfers: [command.data.transferId, command.data.originalTransferId], holds: [command.data.originalTransferId] };
    case 'PlaceHold':
    case 'VoidHold':
    case 'ExpireHold':
      return { ...none, accounts: [command.data.accountId], holds: [command.data.holdId] };
    case 'CaptureHold':
      return { ...none, accounts: [command.data.accountId, command.data.creditAccountId], holds: [command.data.holdId] };
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

/** The accounts a reversal moves money between: those of the original movement, if it was posted or captured. */
export function reversedAccounts(original: { transfer: TransferState | undefined; hold: HoldState | undefined }): string[] {
  const { transfer, hold } = original;
  const movement = transfer?.status === 'decided' ? transfer.movement : hold?.status === 'captured' ? hold.movement : undefined;
  return movement === undefined ? [] : [movement.debitAccountId, movement.creditAccountId];
}

/**
 * Where a batch reads a stream it has not written yet: the writer's cache. `undefined` means the
 * stream was never loaded, which is the writer's bug (it loads every stream a batch names first).
 */
export interface LedgerStreamSource {
  account(accountId: string): AccountState | undefined;
  transfer(transferId: string): TransferState | undefined;
  hold(holdId: string): HoldState | undefined;
}

/** A stream the batch changed, with its state after the batch. */
export type ChangedStream =
  | { category: 'account'; id: string; state: AccountState }
  | { category: 'transfer'; id: string; state: TransferState }
  | { category: 'hold'; id: string; state: HoldState };

export class StreamNotLoadedError extends Error {
  constructor(streamId: string) {
    super(`the batch needs '${streamId}', which was not loaded (writer bug)`);
    this.name = 'StreamNotLoadedError';
  }
}

/** One batch's working copy: the streams its commands changed, over the source they were read from. */
export class LedgerBatch {
  private readonly accounts = new Map<string, AccountState>();
  private readonly transfers = new Map<string, TransferState>();
  private readonly holds = new Map<string, HoldState>();
  /** Every stream a decided command read (written ones included), for the append's expected-version checks. */
  readonly streamsRead = new Set<string>();
  private eventTotal = 0;

  constructor(private readonly source: LedgerStreamSource) {}

  /** Events of the commands applied so far. */
  get eventCount(): number {
    return this.eventTotal;
  }

  /**
   * Decides one command against the working copy. With `maxEvents`, a decision that would take the
   * batch past it is not applied and `undefined` is returned: the command belongs to the next batch.
   * Throws what `decideLedger` throws (LedgerDomainError for input no state makes valid), and
   * StreamNotLoadedError; either way the working copy is unchanged.
   */
  decide(command: LedgerCommand, now: Date, maxEvents = Number.POSITIVE_INFINITY): LedgerResult | undefined {
    const named = this.streamsOf(command);
    const state = this.stateOf(named);
    const result = decideLedger(command, state, now);
    if (this.eventTotal + result.events.length > maxEvents) return undefined;
    const read = [
      ...named.accounts.map((id) => `account-${id}`), ...named.transfers.map((id) => `transfer-${id}`), ...named.holds.map((id) => `hold-${id}`),
    ];
    const written = result.events.find((ledgerEvent) => !read.includes(streamIdOf(ledgerEvent)));
    if (written !== undefined) throw new Error(`the decision wrote '${streamIdOf(written)}', which it did not name (bug)`);
    this.eventTotal += result.events.length;
    for (const streamId of read) this.streamsRead.add(streamId);
    // `result.state` is the small state after the command's events: copy back only what they touched.
    for (const ledgerEvent of result.events) this.adopt(result.state, ledgerEvent.category, ledgerEvent.id);
    return result;
  }

  /** The streams the applied commands changed, each with its state after the batch. */
  changedStreams(): ChangedStream[] {
    return [
      ...[...this.accounts].map(([id, state]): ChangedStream => ({ category: 'account', id, state })),
      ...[...this.transfers].map(([id, state]): ChangedStream => ({ category: 'transfer', id, state })),
      ...[...this.holds].map(([id, state]): ChangedStream => ({ category: 'hold', id, state })),
    ];
  }

  private streamsOf(command: LedgerCommand): StreamsNamed {
    const named = streamsNamedBy(command);
    if (command.type !== 'ReverseTransfer') return named;
    const originalId = command.data.originalTransferId;
    return { ...named, accounts: reversedAccounts({ transfer: this.transfer(originalId), hold: this.hold(originalId) }) };
  }

  private stateOf(named: StreamsNamed): LedgerState {
    return {
      accounts: new Map(named.accounts.map((id) => [id, this.account(id)])),
      transfers: new Map(named.transfers.map((id) => [id, this.transfer(id)])),
      holds: new Map(named.holds.map((id) => [id, this.hold(id)])),
    };
  }

  private adopt(state: LedgerState, category: ChangedStream['category'], id: string): void {
    switch (category) {
      case 'account':
        this.accounts.set(id, required(state.accounts.get(id), `account-${id}`));
        return;
      case 'transfer':
        this.transfers.set(id, required(state.transfers.get(id), `transfer-${id}`));
        return;
      case 'hold':
        this.holds.set(id, required(state.holds.get(id), `hold-${id}`));
        return;
      default: {
        const unreachable: never = category;
        return unreachable;
      }
    }
  }

  private account(accountId: string): AccountState {
    return this.accounts.get(accountId) ?? required(this.source.account(accountId), `account-${accountId}`);
  }

  private transfer(transferId: string): TransferState {
    return this.transfers.get(transferId) ?? required(this.source.transfer(transferId), `transfer-${transferId}`);
  }

  private hold(holdId: string): HoldState {
    return this.holds.get(holdId) ?? required(this.source.hold(holdId), `hold-${holdId}`);
  }
}

function required<State>(state: State | undefined, streamId: string): State {
  if (state === undefined) throw new StreamNotLoadedError(streamId);
  return state;
}
