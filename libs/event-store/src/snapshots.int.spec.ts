// Proves snapshots: aggregateStream starts from a stream's snapshot and reads only what follows,
// takes a new snapshot once `every` events followed the last one, never moves a snapshot backwards,
// and ignores snapshots of another shape version.
import { randomUUID } from 'node:crypto';
import { createTestEventStore, type TestEventStore } from '../test-support/event-store-test-database.js';
import { aggregateStream, type SnapshotPolicy } from './aggregate-stream.js';

type Event = { type: 'Added'; data: { amountMinor: string } };
type State = { totalMinor: bigint; count: number };

let database: TestEventStore;

beforeAll(async () => {
  database = await createTestEventStore({ applicationName: 'snapshots-int-spec' });
});

afterAll(async () => {
  await database.dispose();
});

const decider = {
  initialState: (): State => ({ totalMinor: 0n, count: 0 }),
  evolve: (state: State, event: Event): State => ({ totalMinor: state.totalMinor + BigInt(event.data.amountMinor), count: state.count + 1 }),
};

function policy(every: number, name = 'adder-v1'): SnapshotPolicy<State> {
  return {
    name,
    every,
    toJson: (state) => ({ totalMinor: state.totalMinor.toString(), count: state.count }),
    fromJson: (json) => {
      const stored = json as { totalMinor: string; count: number };
      return { totalMinor: BigInt(stored.totalMinor), count: stored.count };
    },
  };
}

async function append(streamId: string, count: number): Promise<void> {
  await database.store.appendToStream(streamId, Array.from({ length: count }, () => ({ id: randomUUID(), type: 'Added', data: { amountMinor: '5' } })));
}

describe('snapshots', () => {
  it('are taken once enough events were read, then loading resumes from them', async () => {
    const streamId = `adder-${randomUUID()}`;
    await append(streamId, 10);
    expect(await aggregateStream(database.store, streamId, { ...decider, snapshot: policy(10) })).toEqual({ state: { totalMinor: 50n, count: 10 }, version: 9n });
    expect(await database.store.readSnapshot(streamId, 'adder-v1')).toEqual({ version: 9n, state: { totalMinor: '50', count: 10 } });

    await append(streamId, 3);
    const reads: bigint[] = [];
    const spyStore = Object.create(database.store, {
      readStream: { value: async (id: string, options: { fromVersion?: bigint }) => { reads.push(options.fromVersion ?? 0n); return database.store.readStream(id, options); } },
    });
    expect(await aggregateStream(spyStore, streamId, { ...decider, snapshot: policy(10) })).toEqual({ state: { totalMinor: 65n, count: 13 }, version: 12n });
    expect(reads).toEqual([10n]);
    // Only 3 events followed the snapshot: it stays where it was.
    expect((await database.store.readSnapshot(streamId, 'adder-v1'))?.version).toBe(9n);
  });

  it('give the same state as a full replay', async () => {
    const streamId = `adder-${randomUUID()}`;
    await append(streamId, 25);
    await aggregateStream(database.store, streamId, { ...decider, snapshot: policy(7) });
    await append(streamId, 4);
    const fromSnapshot = await aggregateStream(database.store, streamId, { ...decider, snapshot: policy(7) });
    const fullReplay = await aggregateStream(database.store, streamId, decider);
    expect(fromSnapshot).toEqual(fullReplay);
  });

  it('never move backwards', async () => {
    const streamId = `adder-${randomUUID()}`;
    await append(streamId, 1);
    await database.store.saveSnapshot(streamId, 'adder-v1', 0n, { totalMinor: '5', count: 1 });
    await append(streamId, 2);
    await database.store.saveSnapshot(streamId, 'adder-v1', 2n, { totalMinor: '15', count: 3 });
    await database.store.saveSnapshot(streamId, 'adder-v1', 1n, { totalMinor: '10', count: 2 });
    expect(await database.store.readSnapshot(streamId, 'adder-v1')).toEqual({ version: 2n, state: { totalMinor: '15', count: 3 } });
  });

  it('of another shape version are ignored', async () => {
    const streamId = `adder-${randomUUID()}`;
    await append(streamId, 2);
    await database.store.saveSnapshot(streamId, 'adder-v0', 1n, { garbage: true });
    expect(await aggregateStream(database.store, streamId, { ...decider, snapshot: policy(100, 'adder-v1') })).toEqual({ state: { totalMinor: 10n, count: 2 }, version: 1n });
  });

  it('refuse a bad policy or version', async () => {
    await expect(aggregateStream(database.store, `adder-${randomUUID()}`, { ...decider, snapshot: policy(0) })).rejects.toThrow('snapshot.every must be an integer in 1..100000');
    await expect(database.store.saveSnapshot(`adder-${randomUUID()}`, 'adder-v1', -1n, {})).rejects.toThrow('version must be a bigint >= 0n');
  });
});
