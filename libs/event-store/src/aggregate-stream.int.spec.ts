// Proves aggregateStream rebuilds a decider's state from its stream page by page, passes over
// types the decider does not know while still counting them for the version, and reports the
// version to append at: 'no_stream' for a new stream, and what the caller's transaction sees.
import { randomUUID } from 'node:crypto';
import { withTransaction } from '@clearline/postgres';
import { createTestEventStore, type TestEventStore } from '../test-support/event-store-test-database.js';
import { aggregateStream } from './aggregate-stream.js';

type CounterEvent = { type: 'Incremented'; data: { by: number } } | { type: 'Reset'; data: Record<string, never> };

let database: TestEventStore;

beforeAll(async () => {
  database = await createTestEventStore({ applicationName: 'aggregate-stream-int-spec' });
});

afterAll(async () => {
  await database.dispose();
});

const counter = {
  initialState: () => ({ total: 0, seen: 0 }),
  evolve: (state: { total: number; seen: number }, event: CounterEvent) =>
    event.type === 'Reset' ? { total: 0, seen: state.seen + 1 } : { total: state.total + event.data.by, seen: state.seen + 1 },
  accepts: (type: string) => type === 'Incremented' || type === 'Reset',
};

function incremented(by: number) {
  return { id: randomUUID(), type: 'Incremented', data: { by } };
}

describe('aggregateStream', () => {
  it('folds every event across pages and returns the last version', async () => {
    const streamId = `counter-${randomUUID()}`;
    await database.store.appendToStream(streamId, [1, 2, 3, 4, 5].map(incremented));
    const { state, version } = await aggregateStream(database.store, streamId, { ...counter, pageSize: 2 });
    expect(state).toEqual({ total: 15, seen: 5 });
    expect(version).toBe(4n);
  });

  it('passes over unknown types but counts them for the version', async () => {
    const streamId = `counter-${randomUUID()}`;
    await database.store.appendToStream(streamId, [incremented(2), { id: randomUUID(), type: 'SomethingElse', data: {} }, incremented(3)]);
    const { state, version } = await aggregateStream(database.store, streamId, counter);
    expect(state).toEqual({ total: 5, seen: 2 });
    expect(version).toBe(2n);
  });

  it('gives the initial state and no_stream for a new stream', async () => {
    expect(await aggregateStream(database.store, `counter-${randomUUID()}`, counter)).toEqual({ state: { total: 0, seen: 0 }, version: 'no_stream' });
  });

  it('sees the caller’s own uncommitted events when given its client', async () => {
    const streamId = `counter-${randomUUID()}`;
    await withTransaction(database.pool, async (client) => {
      await database.store.appendToStream(streamId, [incremented(7)], { client });
      expect((await aggregateStream(database.store, streamId, { ...counter, client })).version).toBe(0n);
      expect(await database.store.streamVersion(streamId, { client })).toBe(0n);
      expect(await database.store.streamVersion(streamId)).toBe('no_stream');
    });
  });

  it('refuses an unbounded page size', async () => {
    await expect(aggregateStream(database.store, 'counter-1', { ...counter, pageSize: 0 })).rejects.toThrow(/pageSize/);
  });
});
