// Proves that $all can be tailed without ever skipping an event, although global positions commit
// out of order: a reader paging readAll by (transactionId, globalPosition) sees every committed
// event exactly once, never an aborted one, and each stream's events in version order, also when
// transactions take positions early and commit late, or take their id early and write late.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PoolClient } from 'pg';
import { withTransaction } from '@clearline/postgres';
import { createTestEventStore, type TestEventStore } from '../test-support/event-store-test-database.js';
import { compareAllPositions, START } from './all-position.js';
import type { AllPosition, NewEvent, RecordedEvent } from './event-store.types.js';
import type { ReadAllResult } from './postgres-event-store.js';

let database: TestEventStore;

beforeAll(async () => {
  database = await createTestEventStore({ maxConnections: 24, applicationName: 'global-ordering-int-spec' });
});

afterAll(async () => {
  await database.dispose();
});

function events(count: number): NewEvent[] {
  return Array.from({ length: count }, () => ({ id: randomUUID(), type: 'Happened', data: {} }));
}

/** A transaction held open by the test, to commit or abort at a moment of its choosing. */
async function openTransaction(): Promise<{ client: PoolClient; transactionId: () => Promise<bigint>; commit: () => Promise<void> }> {
  const client = await database.pool.connect();
  await client.query('begin');
  return {
    client,
    transactionId: async () => BigInt((await client.query<{ id: string }>('select pg_current_xact_id()::text as id')).rows[0]?.id ?? '0'),
    commit: async () => {
      try {
        await client.query('commit');
      } finally {
        client.release();
      }
    },
  };
}

/** Reads $all from `after` until `until` holds for what was read (other test files' transactions may hold the horizon back for a while). */
async function readUntil(after: AllPosition, until: (events: RecordedEvent[]) => boolean): Promise<{ events: RecordedEvent[]; lastPosition: AllPosition }> {
  const collected: RecordedEvent[] = [];
  let position = after;
  const deadline = Date.now() + 20_000;
  while (!until(collected)) {
    if (Date.now() > deadline) throw new Error(`readAll did not deliver the expected events in time; got ${collected.length}`);
    const page = await database.store.readAll({ after: position, maxCount: 1_000 });
    collected.push(...page.events);
    position = page.lastPosition;
    if (page.events.length === 0) await sleep(10);
  }
  return { events: collected, lastPosition: position };
}

async function currentEnd(): Promise<AllPosition> {
  // Everything this file wrote so far is committed, so once the horizon passes it, a short read finds the end.
  let position = START;
  for (;;) {
    const page = await database.store.readAll({ after: position, maxCount: 10_000 });
    if (page.events.length === 0) return position;
    position = page.lastPosition;
  }
}

const idsOf = (recorded: RecordedEvent[]) => recorded.map((event) => event.id);

describe('ordering of $all', () => {
  it('holds back events committed after a still-open transaction until that transaction ends', async () => {
    const start = await currentEnd();
    const open = await openTransaction();
    const early = events(1);
    await database.store.appendToStream(`early-${randomUUID()}`, early, { client: open.client });
    const late = events(1);
    await database.store.appendToStream(`late-${randomUUID()}`, late);

    const whileOpen = await database.store.readAll({ after: start, maxCount: 100 });
    expect(idsOf(whileOpen.events)).not.toContain(late[0]?.id);

    await open.commit();
    const read = await readUntil(start, (seen) => seen.length >= 2);
    expect(idsOf(read.events)).toEqual([early[0]?.id, late[0]?.id]);
  }, 30_000);

  it('delivers a late commit whose global position is below events already delivered', async () => {
    const start = await currentEnd();
    const first = await openTransaction();
    await first.transactionId(); // takes the lower transaction id now, writes later
    const second = await openTransaction();
    const lowPosition = events(1);
    const lowResult = await database.store.appendToStream(`low-${randomUUID()}`, lowPosition, { client: second.client });
    const highPosition = events(1);
    const highResult = await database.store.appendToStream(`high-${randomUUID()}`, highPosition, { client: first.client });
    expect(lowResult.firstGlobalPosition! < highResult.firstGlobalPosition!).toBe(true);

    await first.commit();
    const delivered = await readUntil(start, (seen) => seen.length >= 1);
    expect(idsOf(delivered.events)).toEqual([highPosition[0]?.id]);

    await second.commit();
    const afterward = await readUntil(delivered.lastPosition, (seen) => seen.length >= 1);
    expect(idsOf(afterward.events)).toEqual([lowPosition[0]?.id]);
    // A checkpoint of global position alone would have stood above this event and skipped it.
    expect(afterward.events[0]!.globalPosition < delivered.lastPosition.globalPosition).toBe(true);
  }, 30_000);

  it('keeps a stream in version order when a later writer of it has a lower transaction id', async () => {
    const start = await currentEnd();
    const streamId = `account-${randomUUID()}`;
    const laterWriter = await openTransaction();
    const laterWriterId = await laterWriter.transactionId();
    await database.store.appendToStream(streamId, events(2), { expectedVersion: 'no_stream' });
    await database.store.appendToStream(streamId, events(2), { expectedVersion: 1n, client: laterWriter.client });
    await laterWriter.commit();

    const read = await readUntil(start, (seen) => seen.length >= 4);
    expect(read.events.map((event) => event.streamVersion)).toEqual([0n, 1n, 2n, 3n]);
    const stored = await database.pool.query<{ raised: boolean; appended_by: string }>(
      `select transaction_id <> appended_by_transaction_id as raised, appended_by_transaction_id::text as appended_by
       from ${database.schema}.messages where stream_id = $1 order by stream_version`,
      [streamId],
    );
    expect(stored.rows.map((row) => row.raised)).toEqual([false, false, true, true]);
    expect(BigInt(stored.rows[2]?.appended_by ?? '0')).toBe(laterWriterId);
  }, 30_000);

  it('never delivers the events of an aborted transaction', async () => {
    const start = await currentEnd();
    const aborted = events(3);
    await expect(
      withTransaction(database.pool, async (client) => {
        await database.store.appendToStream(`aborted-${randomUUID()}`, aborted, { client });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const kept = events(1);
    await database.store.appendToStream(`kept-${randomUUID()}`, kept);
    const read = await readUntil(start, (seen) => seen.length >= 1);
    expect(idsOf(read.events)).toEqual([kept[0]?.id]);
  }, 30_000);

  it('lets concurrent tailers see every event exactly once, per stream in order, under 8 racing writers', async () => {
    const writers = 8;
    const transactionsPerWriter = 40;
    const runId = randomUUID();
    const hotStreams = Array.from({ length: 3 }, () => `hot-${randomUUID()}`);
    const committed = new Map<string, string>(); // event id -> stream id
    const abortedIds = new Set<string>();
    let writersDone = false;

    const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
    const randomStreams = (writer: number, count: number) => {
      const own = Array.from({ length: 4 }, (_, index) => `writer${writer}-${index}-${runId}`);
      return [...new Set(Array.from({ length: count }, () => pick([...own, ...hotStreams])))];
    };
    const record = (appends: { streamId: string; events: NewEvent[] }[]) => {
      for (const append of appends) for (const event of append.events) committed.set(event.id, append.streamId);
    };

    // Quick appends in the store's own transaction; slow ones that take positions and sleep before
    // committing; ones that take their transaction id first and write late; multi-stream appends;
    // and deliberate aborts.
    async function oneTransaction(writer: number): Promise<void> {
      const mode = pick(['quick', 'quick', 'slow', 'slow-early-id', 'multi', 'abort'] as const);
      const appends = randomStreams(writer, mode === 'multi' ? 3 : 1).map((streamId) => ({ streamId, events: events(1 + Math.floor(Math.random() * 12)) }));
      if (mode === 'quick' || mode === 'multi') {
        await database.store.appendToStreams(appends);
        record(appends);
        return;
      }
      try {
        await withTransaction(database.pool, async (client) => {
          if (mode === 'slow-early-id') await client.query('select pg_current_xact_id()');
          await sleep(Math.random() * 30);
          await database.store.appendToStreams(appends, { client });
          await sleep(Math.random() * 30);
          if (mode === 'abort') throw new Error('deliberate abort');
        });
        record(appends);
      } catch (error) {
        if (mode !== 'abort') throw error;
        for (const append of appends) for (const event of append.events) abortedIds.add(event.id);
      }
    }

    const expectedCount = (categories?: string[]) =>
      categories === undefined ? committed.size : [...committed.values()].filter((streamId) => categories.some((category) => streamId.startsWith(`${category}-`))).length;

    /** Tails with readAll one page at a time, or (`pageWise`) with readAllPages to the visible end, again and again. */
    async function tail(from: AllPosition, categories?: string[], pageWise = false): Promise<{ seen: RecordedEvent[]; pages: number }> {
      const seen: RecordedEvent[] = [];
      let pages = 0;
      let position = from;
      const deadline = Date.now() + 60_000;
      const filter = categories === undefined ? {} : { categories };
      const read = async (): Promise<ReadAllResult[]> => {
        if (!pageWise) return [await database.store.readAll({ after: position, maxCount: 50, ...filter })];
        const pagesRead: ReadAllResult[] = [];
        for await (const page of database.store.readAllPages({ after: position, maxCount: 50, ...filter })) pagesRead.push(page);
        return pagesRead;
      };
      while (!writersDone || seen.length < expectedCount(categories)) {
        if (Date.now() > deadline) throw new Error(`tailer timed out with ${seen.length} of ${expectedCount(categories)} events`);
        const pagesRead = await read();
        for (const page of pagesRead) {
          pages += 1;
          if (page.events.length > 0) expect(compareAllPositions(page.lastPosition, position)).toBeGreaterThan(0);
          seen.push(...page.events);
          position = page.lastPosition;
        }
        if (pagesRead.every((page) => page.events.length === 0)) await sleep(2);
      }
      // Everything expected is seen; a last read after a pause must find nothing further.
      await sleep(50);
      expect((await database.store.readAll({ after: position, maxCount: 50, ...filter })).events).toEqual([]);
      return { seen, pages };
    }

    function assertExactlyOnceInStreamOrder(seen: RecordedEvent[], expectedIds: string[]): void {
      const ids = seen.map((event) => event.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(new Set(expectedIds));
      expect(ids.filter((id) => abortedIds.has(id))).toEqual([]);
      const versionsByStream = new Map<string, bigint[]>();
      for (const event of seen) versionsByStream.set(event.streamId, [...(versionsByStream.get(event.streamId) ?? []), event.streamVersion]);
      for (const versions of versionsByStream.values()) expect(versions).toEqual(versions.map((_, index) => BigInt(index)));
    }

    const start = await currentEnd();
    // The third reads several categories (a merge of their index ranges) with readAllPages, as a replay does.
    const mergedCategories = ['hot', 'writer0', 'writer5'];
    const tailers = [tail(start), tail(start, ['hot']), tail(start, mergedCategories, true)];
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        for (let index = 0; index < transactionsPerWriter; index += 1) await oneTransaction(writer);
      }),
    );
    writersDone = true;
    const [all, hot, merged] = (await Promise.all(tailers)) as [{ seen: RecordedEvent[]; pages: number }, { seen: RecordedEvent[]; pages: number }, { seen: RecordedEvent[]; pages: number }];

    assertExactlyOnceInStreamOrder(all.seen, [...committed.keys()]);
    assertExactlyOnceInStreamOrder(hot.seen, [...committed].filter(([, streamId]) => hotStreams.includes(streamId)).map(([id]) => id));
    const inMergedCategories = (streamId: string) => mergedCategories.some((category) => streamId.startsWith(`${category}-`));
    assertExactlyOnceInStreamOrder(merged.seen, [...committed].filter(([, streamId]) => inMergedCategories(streamId)).map(([id]) => id));
    // In $all order too: the merge of the categories is the whole of $all filtered.
    expect(idsOf(merged.seen)).toEqual(idsOf(all.seen.filter((event) => inMergedCategories(event.streamId))));
    expect(all.pages).toBeGreaterThan(10);

    // The race was really exercised: events arrived below the global position of earlier ones,
    // which a reader checkpointing on global position alone would have skipped.
    let highest = 0n;
    let inversions = 0;
    for (const event of all.seen) {
      if (event.globalPosition < highest) inversions += 1;
      else highest = event.globalPosition;
    }
    expect(inversions).toBeGreaterThan(0);
    if (process.env['EVENT_STORE_ORDERING_STATS'] === '1') {
      const raised = await database.pool.query(`select count(*)::int as count from ${database.schema}.messages where transaction_id <> appended_by_transaction_id`);
      console.log(`events ${all.seen.length} (hot ${hot.seen.length}), pages ${all.pages}, position inversions ${inversions}, raised transaction ids ${raised.rows[0].count}`);
    }
  }, 90_000);
});
