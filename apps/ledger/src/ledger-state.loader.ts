import { aggregateStream, PostgresEventStore, type ExpectedVersion, type SnapshotPolicy } from '@clearline/event-store';
import {
  accountStateFromJson, accountStateToJson, ACCOUNT_EVENT_TYPES, evolveAccount, evolveHold, evolveTransfer, initialAccountState, initialHoldState,
  initialTransferState, type AccountEvent, type AccountState, type AccountStateJson, type HoldEvent,
  type HoldState, type LedgerState, type StreamsNamed, type TransferEvent, type TransferState,
} from '@clearline/ledger-domain';
import type { PoolClient } from 'pg';

/**
 * A busy account (a merchant receiving most payments) accumulates events fast; loading it from a
 * snapshot taken every 200 events keeps each command's read short. `-v2` is the state's shape
 * (balance flags, limits, metadata, holds with expiry, monitors); v1 snapshots are ignored and rebuilt.
 */
export const ACCOUNT_SNAPSHOTS: SnapshotPolicy<AccountState> = {
  name: 'account-v2',
  every: 200,
  toJson: accountStateToJson,
  fromJson: (json) => accountStateFromJson(json as AccountStateJson),
};

/**
 * Ledger streams as loaded, and the version each had when read: the writer's append passes each as
 * its expected version, so a write behind the writer's back makes the append fail and the batch is
 * decided again on fresh state.
 */
export interface LoadedLedger {
  state: LedgerState;
  versions: ReadonlyMap<string, ExpectedVersion>;
}

export const accountStream = (accountId: string): string => `account-${accountId}`;
export const transferStream = (transferId: string): string => `transfer-${transferId}`;
export const holdStream = (holdId: string): string => `hold-${holdId}`;

/** Loads ledger streams from their snapshots and events, for the batch writer and for tests. */
export class LedgerStateLoader {
  constructor(private readonly store: PostgresEventStore) {}

  /** Loads the named streams, each as of its own latest version (no common snapshot of the database). */
  async loadStreams(named: StreamsNamed, client?: PoolClient): Promise<LoadedLedger> {
    const versions = new Map<string, ExpectedVersion>();
    const [accounts, transfers, holds] = await Promise.all([
      this.loadAll(named.accounts, (id) => this.loadAccount(id, client, versions)),
      this.loadAll(named.transfers, (id) => this.loadTransfer(id, client, versions)),
      this.loadAll(named.holds, (id) => this.loadHold(id, client, versions)),
    ]);
    return { state: { accounts, transfers, holds }, versions };
  }

  private async loadAll<State>(ids: readonly string[], load: (id: string) => Promise<State>): Promise<Map<string, State>> {
    const unique = [...new Set(ids)];
    const states = await Promise.all(unique.map(load));
    return new Map(unique.map((id, index) => [id, states[index]!]));
  }

  private async loadAccount(accountId: string, client: PoolClient | undefined, versions: Map<string, ExpectedVersion>): Promise<AccountState> {
    const streamId = accountStream(accountId);
    const { state, version } = await aggregateStream<AccountState, AccountEvent>(this.store, streamId, {
      initialState: initialAccountState,
      evolve: evolveAccount,
      accepts: (type) => ACCOUNT_EVENT_TYPES.has(type),
      snapshot: ACCOUNT_SNAPSHOTS,
      ...(client === undefined ? {} : { client }),
    });
    versions.set(streamId, version);
    return state;
  }

  private async loadTransfer(transferId: string, client: PoolClient | undefined, versions: Map<string, ExpectedVersion>): Promise<TransferState> {
    const streamId = transferStream(transferId);
    const { state, version } = await aggregateStream<TransferState, TransferEvent>(this.store, streamId, {
      initialState: initialTransferState,
      evolve: (state, event) => evolveTransfer(state, messageOf(event)),
      ...(client === undefined ? {} : { client }),
    });
    versions.set(streamId, version);
    return state;
  }

  private async loadHold(holdId: string, client: PoolClient | undefined, versions: Map<string, ExpectedVersion>): Promise<HoldState> {
    const streamId = holdStream(holdId);
    const { state, version } = await aggregateStream<HoldState, HoldEvent>(this.store, streamId, {
      initialState: initialHoldState,
      evolve: (state, event) => evolveHold(state, messageOf(event)),
      ...(client === undefined ? {} : { client }),
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
