import { Injectable } from '@nestjs/common';
import { aggregateStream, PostgresEventStore, type ExpectedVersion, type SnapshotPolicy } from '@clearline/event-store';
import {
  accountStateFromJson, accountStateToJson, ACCOUNT_EVENT_TYPES, evolveAccount, evolveHold, evolveTransfer, initialAccountState, initialHoldState,
  initialTransferState, type AccountEvent, type AccountState, type AccountStateJson, type HoldEvent, type HoldState, type LedgerCommand,
  type LedgerState, type TransferEvent, type TransferState,
} from '@clearline/ledger-domain';
import type { PoolClient } from 'pg';

/**
 * A busy account (a merchant receiving most payments) accumulates events fast; loading it from a
 * snapshot taken every 200 events keeps each command's read short. `-v2` is the state's shape
 * (balance flags, limits, metadata, holds with expiry, monitors); v1 snapshots are ignored and rebuilt.
 */
const ACCOUNT_SNAPSHOTS: SnapshotPolicy<AccountState> = {
  name: 'account-v2',
  every: 200,
  toJson: accountStateToJson,
  fromJson: (json) => accountStateFromJson(json as AccountStateJson),
};

/** The ids of the streams one command reads: `account-<id>`, `transfer-<id>` (batches too) and `hold-<id>`. */
interface StreamsNeeded {
  accounts: string[];
  transfers: string[];
  holds: string[];
}

/**
 * The part of the ledger one command can see, and the version each of its streams had when read:
 * the append passes every one of them as its expected version, so a concurrent writer to any of
 * them makes the append fail and the command is decided again on fresh state.
 */
export interface LoadedLedger {
  state: LedgerState;
  versions: ReadonlyMap<string, ExpectedVersion>;
}

export const accountStream = (accountId: string): string => `account-${accountId}`;
export const transferStream = (transferId: string): string => `transfer-${transferId}`;
export const holdStream = (holdId: string): string => `hold-${holdId}`;

/** Loads exactly the streams a command touches, inside the consumer's transaction. */
@Injectable()
export class LedgerStateLoader {
  constructor(private readonly store: PostgresEventStore) {}

  async load(command: LedgerCommand, client: PoolClient): Promise<LoadedLedger> {
    const needed = streamsNeededBy(command);
    const versions = new Map<string, ExpectedVersion>();
    const [transfers, holds] = await Promise.all([
      this.loadAll(needed.transfers, (id) => this.loadTransfer(id, client, versions)),
      this.loadAll(needed.holds, (id) => this.loadHold(id, client, versions)),
    ]);
    // A reversal names only the original: its accounts are known once the original is loaded.
    const accountIds = command.type === 'ReverseTransfer' ? reversedAccounts(command.data.originalTransferId, transfers, holds) : needed.accounts;
    const accounts = await this.loadAll(accountIds, (id) => this.loadAccount(id, client, versions));
    return { state: { accounts, transfers, holds }, versions };
  }

  private async loadAll<State>(ids: readonly string[], load: (id: string) => Promise<State>): Promise<Map<string, State>> {
    const unique = [...new Set(ids)];
    const states = await Promise.all(unique.map(load));
    return new Map(unique.map((id, index) => [id, states[index]!]));
  }

  private async loadAccount(accountId: string, client: PoolClient, versions: Map<string, ExpectedVersion>): Promise<AccountState> {
    const streamId = accountStream(accountId);
    const { state, version } = await aggregateStream<AccountState, AccountEvent>(this.store, streamId, {
      initialState: initialAccountState,
      evolve: evolveAccount,
      accepts: (type) => ACCOUNT_EVENT_TYPES.has(type),
      snapshot: ACCOUNT_SNAPSHOTS,
      client,
    });
    versions.set(streamId, version);
    return state;
  }

  private async loadTransfer(transferId: string, client: PoolClient, versions: Map<string, ExpectedVersion>): Promise<TransferState> {
    const streamId = transferStream(transferId);
    const { state, version } = await aggregateStream<TransferState, TransferEvent>(this.store, streamId, {
      initialState: initialTransferState,
      evolve: (state, event) => evolveTransfer(state, messageOf(event)),
      client,
    });
    versions.set(streamId, version);
    return state;
  }

  private async loadHold(holdId: string, client: PoolClient, versions: Map<string, ExpectedVersion>): Promise<HoldState> {
    const streamId = holdStream(holdId);
    const { state, version } = await aggregateStream<HoldState, HoldEvent>(this.store, streamId, {
      initialState: initialHoldState,
      evolve: (state, event) => evolveHold(state, messageOf(event)),
      client,
    });
    versions.set(streamId, version);
    return state;
  }
}

/**
 * Transfer and hold states keep their first outcome to answer a repeat with: keep only the message
 * itself, not the stored event around it (positions, metadata of the first command).
 */
function messageOf<Event extends { type: string; data: unknown }>(event: Event): Event {
  return { type: event.type, data: event.data } as Event;
}

function streamsNeededBy(command: LedgerCommand): StreamsNeeded {
  const none: StreamsNeeded = { accounts: [], transfers: [], holds: [] };
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

function reversedAccounts(originalId: string, transfers: ReadonlyMap<string, TransferState>, holds: ReadonlyMap<string, HoldState>): string[] {
  const transfer = transfers.get(originalId);
  const hold = holds.get(originalId);
  const movement = transfer?.status === 'decided' ? transfer.movement : hold?.status === 'captured' ? hold.movement : undefined;
  return movement === undefined ? [] : [movement.debitAccountId, movement.creditAccountId];
}
