// Proves readAllPages, the paged reader of $all that replays (the analytics rebuild) use: its pages
// together are exactly what readAll returns in one read (same order, no event skipped or doubled at a
// page boundary, with and without a category filter, the filter a merge of several categories), each
// page starts where the previous one ended, it stops at what is visible (a transaction still open
// holds back every event after its own, as for readAll), and a reader resuming from the last page's
// position then gets the late commit below positions it has already passed. Bad input is refused.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestEventStore, type TestEventStore } from '../test-support/event-store-test-database.js';
import { compareAllPositions, START } from './all-position.js';
import { EventStoreInputError } from './event-store.errors.js';
import type { AllPosition, NewEvent, RecordedEvent } from './event-store.types.js';
import type { ReadAllResult } from './postgres-event-store.js';

let database: TestEventStore;

beforeAll(async () => {
  database = await createTestEventStore({ maxConnections: 6, applicationName: 'read-all-pages-int-spec' });
});

afterAll(async () => {
  await database.dispose();
});

function events(count: number, label: string): NewEvent[] {
  return Array.from({ length: count }, (_, index) => ({ id: randomUUID(), type: 'Happened', data: { label, index } }));
}

async function allPages(after: AllPosition, maxCount: number, categories?: string[]): Promise<ReadAllResult[]> {
  const pages: ReadAllResult[] = [];
  for await (const page of database.store.readAllPages({ after, maxCount, ...(categories === undefined ? {} : { categories }) })) pages.push(page);
  return pages;
}

const idsOf = (recorded: readonly { id: string }[]) => recorded.map((event) => event.id);

/** Waits until one readAll from `after` returns `count` events (other test files' transactions may hold the horizon back for a while). */
async function visible(after: AllPosition, count: number): Promise<RecordedEvent[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const page = await database.store.readAll({ after, maxCount: 10_000 });
    if (page.events.length >= count) return page.events;
    if (Date.now() > deadline) throw new Error(`only ${page.events.length} of ${count} events became visible`);
    await sleep(10);
  }
}

describe('readAllPages', () => {
  // Three categories, streams interleaved across ten transactions: 90 events, so pages of 7 end
  // mid-stream and mid-transaction.
  const categories = ['alpha', 'beta', 'gamma'];
  let written: RecordedEvent[];

  beforeAll(async () => {
    for (let round = 0; round < 10; round += 1) {
      await database.store.appendToStreams(
        categories.map((category, index) => ({ streamId: `${category}-${round % 4}`, events: events(1 + ((round + index) % 5), `${category}-${round}`) })),
      );
    }
    const total = (await database.pool.query<{ count: number }>(`select count(*)::int as count from ${database.schema}.messages`)).rows[0]?.count ?? 0;
    written = await visible(START, total);
    expect(written).toHaveLength(90);
  });

  it('pages through exactly what one readAll returns, in order, none skipped or doubled at a page boundary', async () => {
    for (const maxCount of [1, 7, 10, 100, 10_000]) {
      const pages = await allPages(START, maxCount);
      const ids = pages.flatMap((page) => idsOf(page.events));
      expect({ maxCount, ids }).toEqual({ maxCount, ids: idsOf(written) });
      expect(new Set(ids).size).toBe(ids.length);
      // Full pages until the last; each page's lastPosition is its last event's, and the next page starts after it.
      expect(pages.slice(0, -1).every((page) => page.events.length === maxCount)).toBe(true);
      expect(pages.at(-1)!.events.length).toBeGreaterThan(0);
      for (const [index, page] of pages.entries()) {
        const last = page.events.at(-1)!;
        expect(page.lastPosition).toEqual({ transactionId: last.transactionId, globalPosition: last.globalPosition });
        const next = pages[index + 1];
        if (next !== undefined) expect(compareAllPositions(next.events[0]!, page.lastPosition)).toBeGreaterThan(0);
      }
    }
  });

  it('with categories, merges their streams in $all order: the same events as filtering the whole of $all', async () => {
    for (const chosen of [['beta'], ['gamma', 'alpha'], categories]) {
      const expected = idsOf(written.filter((event) => chosen.includes(event.category)));
      for (const maxCount of [3, 10_000]) {
        const ids = (await allPages(START, maxCount, chosen)).flatMap((page) => idsOf(page.events));
        expect({ chosen, maxCount, ids }).toEqual({ chosen, maxCount, ids: expected });
      }
      const oneRead = await database.store.readAll({ after: START, maxCount: 10_000, categories: chosen });
      expect(idsOf(oneRead.events)).toEqual(expected);
    }
    expect(await allPages(START, 10, ['nothing'])).toEqual([]);
  });

  it('resumes after any position, and yields no page when nothing follows it', async () => {
    const middle = written[41]!;
    const ids = (await allPages(middle, 10)).flatMap((page) => idsOf(page.events));
    expect(ids).toEqual(idsOf(written.slice(42)));
    const end = written.at(-1)!;
    expect(await allPages(end, 10)).toEqual([]);
  });

  it('stops before a transaction still open, and a reader resuming from its last page gets the late commit below passed positions', async () => {
    const start = written.at(-1)!;
    const first = await database.pool.connect();
    const second = await database.pool.connect();
    const open = new Set([first, second]);
    try {
      await first.query('begin');
      await first.query('select pg_current_xact_id()'); // the lower transaction id, its event written later
      await second.query('begin');
      const lowPosition = events(1, 'low');
      const low = await database.store.appendToStream(`delta-${randomUUID()}`, lowPosition, { client: second });
      const highPosition = events(1, 'high');
      const high = await database.store.appendToStream(`delta-${randomUUID()}`, highPosition, { client: first });
      expect(low.firstGlobalPosition! < high.firstGlobalPosition!).toBe(true);
      expect(await allPages(start, 2)).toEqual([]);

      await first.query('commit');
      open.delete(first);
      await visible(start, 1);
      const delivered = await allPages(start, 2);
      expect(delivered.flatMap((page) => idsOf(page.events))).toEqual(idsOf(highPosition));

      await second.query('commit');
      open.delete(second);
      const resumeAt = delivered.at(-1)!.lastPosition;
      await visible(resumeAt, 1);
      const afterward = (await allPages(resumeAt, 2)).flatMap((page) => page.events);
      expect(idsOf(afterward)).toEqual(idsOf(lowPosition));
      // A reader checkpointing on global position alone would have stood above this event and skipped it.
      expect(afterward[0]!.globalPosition < resumeAt.globalPosition).toBe(true);
    } finally {
      for (const client of open) await client.query('rollback');
      first.release();
      second.release();
    }
  }, 30_000);

  it('lets a caller stop after any page, and refuses bad input before reading', async () => {
    for await (const page of database.store.readAllPages({ after: START, maxCount: 5 })) {
      expect(page.events).toHaveLength(5);
      break;
    }
    // Let the abandoned read ahead settle: it must not surface as an unhandled rejection.
    await sleep(50);
    const pagesOf = (options: Parameters<typeof database.store.readAllPages>[0]) => database.store.readAllPages(options).next();
    await expect(pagesOf({ after: START, maxCount: 0 })).rejects.toThrow(EventStoreInputError);
    await expect(pagesOf({ after: START, maxCount: 10_001 })).rejects.toThrow(EventStoreInputError);
    await expect(pagesOf({ after: START, maxCount: 10, categories: [] })).rejects.toThrow(EventStoreInputError);
    await expect(pagesOf({ after: { transactionId: -1n, globalPosition: 0n }, maxCount: 10 })).rejects.toThrow(EventStoreInputError);
  });
});
