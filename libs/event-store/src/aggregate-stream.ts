import type { PoolClient } from 'pg';
import type { RecordedEvent } from './event-store.types.js';
import type { PostgresEventStore } from './postgres-event-store.js';

export interface AggregateStreamOptions<State, Event extends { type: string; data: unknown }> {
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
  /**
   * Which stored event types `evolve` understands; events of other types are passed over (they
   * still count for the version). Default: every event is passed to `evolve`.
   */
  accepts?: (type: string) => boolean;
  /** Read inside the caller's transaction (so the version is the one its append will check). */
  client?: PoolClient;
  /** Events read per round trip, 1..10,000. Default 1,000; memory stays bounded by it, whatever the stream's length. */
  pageSize?: number;
  /** Start from the stream's snapshot, and take a new one when enough events followed it. */
  snapshot?: SnapshotPolicy<State>;
}

/**
 * How a decider's state is snapshotted. `name` includes the state's shape version, so a changed
 * shape starts afresh; `toJson`/`fromJson` must round-trip exactly (bigints as strings, maps as arrays).
 */
export interface SnapshotPolicy<State> {
  name: string;
  /** Take a snapshot once at least this many events were read after the last one (1..100,000). */
  every: number;
  toJson: (state: State) => unknown;
  fromJson: (json: unknown) => State;
}

export interface AggregatedStream<State> {
  state: State;
  /** The version the state was built from: pass it as expectedVersion when appending the decision. */
  version: bigint | 'no_stream';
}

/**
 * Rebuilds a decider's state from its stream: initialState(), then evolve() over every event in
 * version order. Each event is handed to evolve as the recorded event (type, data, metadata,
 * positions), which is structurally the `{ type, data }` a decider's event union describes.
 */
export async function aggregateStream<State, Event extends { type: string; data: unknown }>(
  store: PostgresEventStore,
  streamId: string,
  options: AggregateStreamOptions<State, Event>,
): Promise<AggregatedStream<State>> {
  const pageSize = options.pageSize ?? 1_000;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 10_000) {
    throw new RangeError(`aggregateStream: pageSize must be an integer in 1..10000, got ${pageSize}`);
  }
  const policy = options.snapshot;
  if (policy && (!Number.isSafeInteger(policy.every) || policy.every < 1 || policy.every > 100_000)) {
    throw new RangeError(`aggregateStream: snapshot.every must be an integer in 1..100000, got ${policy.every}`);
  }
  const clientOption = options.client === undefined ? {} : { client: options.client };
  const snapshot = policy ? await store.readSnapshot(streamId, policy.name, clientOption) : undefined;
  let state = snapshot && policy ? policy.fromJson(snapshot.state) : options.initialState();
  let version: bigint | 'no_stream' = snapshot ? snapshot.version : 'no_stream';
  let eventsRead = 0;
  for (;;) {
    const fromVersion = version === 'no_stream' ? 0n : version + 1n;
    const page: RecordedEvent[] = await store.readStream(streamId, { fromVersion, maxCount: pageSize, ...clientOption });
    for (const event of page) {
      if (options.accepts === undefined || options.accepts(event.type)) state = options.evolve(state, event as unknown as Event);
      version = event.streamVersion;
    }
    eventsRead += page.length;
    if (page.length < pageSize) break;
  }
  if (policy && version !== 'no_stream' && eventsRead >= policy.every) {
    await store.saveSnapshot(streamId, policy.name, version, policy.toJson(state), clientOption);
  }
  return { state, version };
}
