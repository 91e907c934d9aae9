// Proves the event store's stream API against a real PostgreSQL: appends get consecutive versions
// and round-trip exactly; expected versions and concurrent writers are enforced; a repeated append
// is a no-op; bad input is refused before anything is written; appends join the caller's
// transaction; multi-stream appends are all-or-nothing; reads page, filter and upcast.
import { randomUUID } from 'node:crypto';
import { withTransaction } from '@clearline/postgres';
import { createTestEventStore, type TestEventStore } from '../test-support/event-store-test-database.js';
import { START } from './all-position.js';
import { EventIdConflictError, EventStoreInputError, WrongExpectedVersionError } from './event-store.errors.js';
import type { NewEvent } from './event-store.types.js';
import { defineUpcaster } from './upcasting.js';

let database: TestEventStore;

beforeAll(async () => {
  database = await createTestEventStore({ applicationName: 'postgres-event-store-int-spec' });
});

afterAll(async () => {
  await database.dispose();
});

function streamOf(category = 'payment'): string {
  return `${category}-${randomUUID()}`;
}

function events(count: number, type = 'Happened'): NewEvent[] {
  return Array.from({ length: count }, (_, index) => ({ id: randomUUID(), type, data: { index, amountMinor: String(1000 + index) } }));
}

/**
 * Waits until readAll shows `count` events of `categories`: a transaction holding an id anywhere in the
 * cluster (another test file's, another session's) holds $all back until it ends, by design.
 */
async function untilVisible(categories: string[], count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await database.store.readAll({ after: START, maxCount: 10_000, categories })).events.length < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} events of ${categories.join(', ')} became visible within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function rowCount(sql: string, parameters: unknown[]): Promise<number> {
  const result = await database.pool.query<{ count: number }>(`select count(*)::int as count from ${sql}`, parameters);
  return result.rows[0]?.count ?? -1;
}

describe('appendToStream and readStream', () => {
  it('gives a new stream versions from 0, increasing positions, and reads back exactly what was written', async () => {
    const streamId = streamOf();
    const written: NewEvent[] = [
      { id: randomUUID(), type: 'PaymentRequested', data: { amount: { minor: '123456789012345678901', currency: 'JPY' }, note: 'naïve ✓ 日本', nested: [[1, 2.5], { x: null }] }, metadata: { correlationId: 'c-1' } },
      { id: randomUUID(), type: 'RiskAssessed', data: { score: 0.25, reasons: [] }, schemaVersion: 2 },
    ];
    const result = await database.store.appendToStream(streamId, written, { expectedVersion: 'no_stream' });
    expect(result).toMatchObject({ streamId, nextExpectedVersion: 1n, alreadyAppended: false });
    expect(result.lastGlobalPosition! - result.firstGlobalPosition!).toBe(1n);

    const read = await database.store.readStream(streamId);
    expect(read.map((event) => [event.id, event.type, event.streamVersion, event.schemaVersion, event.category])).toEqual([
      [written[0]?.id, 'PaymentRequested', 0n, 1, 'payment'],
      [written[1]?.id, 'RiskAssessed', 1n, 2, 'payment'],
    ]);
    expect(read.map((event) => event.data)).toEqual(written.map((event) => event.data));
    expect(read.map((event) => event.metadata)).toEqual([{ correlationId: 'c-1' }, {}]);
    expect(read[0]?.globalPosition).toBe(result.firstGlobalPosition);
    expect(read[0]?.recordedAt).toBeInstanceOf(Date);
    expect(typeof read[0]?.transactionId).toBe('bigint');
    expect(await database.store.streamVersion(streamId)).toBe(1n);
  });

  it('continues a stream from its version and reads forwards, backwards, from a version, bounded', async () => {
    const streamId = streamOf();
    await database.store.appendToStream(streamId, events(3));
    const second = await database.store.appendToStream(streamId, events(3), { expectedVersion: 2n });
    expect(second.nextExpectedVersion).toBe(5n);
    const versions = async (options: Parameters<typeof database.store.readStream>[1]) =>
      (await database.store.readStream(streamId, options)).map((event) => event.streamVersion);
    expect(await versions({})).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
    expect(await versions({ fromVersion: 4n })).toEqual([4n, 5n]);
    expect(await versions({ maxCount: 2 })).toEqual([0n, 1n]);
    expect(await versions({ direction: 'backwards' })).toEqual([5n, 4n, 3n, 2n, 1n, 0n]);
    expect(await versions({ direction: 'backwards', fromVersion: 3n, maxCount: 2 })).toEqual([3n, 2n]);
    expect(await database.store.readStream(streamOf())).toEqual([]);
  });

  it('reports no_stream for a stream without events', async () => {
    expect(await database.store.streamVersion(streamOf())).toBe('no_stream');
  });
});

describe('expected versions', () => {
  it('refuses a wrong expectation with the actual version and writes nothing', async () => {
    const streamId = streamOf();
    await database.store.appendToStream(streamId, events(2));
    await expect(database.store.appendToStream(streamId, events(1), { expectedVersion: 0n })).rejects.toMatchObject({
      name: 'WrongExpectedVersionError', streamId, expected: 0n, actual: 1n,
    });
    await expect(database.store.appendToStream(streamId, events(1), { expectedVersion: 'no_stream' })).rejects.toThrow(WrongExpectedVersionError);
    await expect(database.store.appendToStream(streamOf(), events(1), { expectedVersion: 'stream_exists' })).rejects.toMatchObject({ actual: 'no_stream' });
    await expect(database.store.appendToStream(streamOf(), events(1), { expectedVersion: 0n })).rejects.toThrow(/expected version 0 but is at 'no_stream'/);
    expect(await database.store.streamVersion(streamId)).toBe(1n);
  });

  it('lets exactly one of many concurrent writers with the same expectation win', async () => {
    const streamId = streamOf();
    await database.store.appendToStream(streamId, events(1));
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => database.store.appendToStream(streamId, events(2), { expectedVersion: 0n })));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(WrongExpectedVersionError);
    expect((await database.store.readStream(streamId)).map((event) => event.streamVersion)).toEqual([0n, 1n, 2n]);
  });

  it('lets exactly one of many concurrent creators of a new stream win', async () => {
    const streamId = streamOf();
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => database.store.appendToStream(streamId, events(1), { expectedVersion: 'no_stream' })));
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    expect(await database.store.streamVersion(streamId)).toBe(0n);
  });

  it('serialises concurrent writers expecting any into consecutive versions', async () => {
    const streamId = streamOf();
    await Promise.all(Array.from({ length: 10 }, () => database.store.appendToStream(streamId, events(3))));
    const read = await database.store.readStream(streamId);
    expect(read.map((event) => event.streamVersion)).toEqual(Array.from({ length: 30 }, (_, index) => BigInt(index)));
    const positions = read.map((event) => event.globalPosition);
    expect([...positions].sort((left, right) => (left < right ? -1 : 1))).toEqual(positions);
  });
});

describe('idempotent appends', () => {
  it('treats a repeated append as done, even after the stream moved on, and stores nothing twice', async () => {
    const streamId = streamOf();
    const batch = events(3);
    const first = await database.store.appendToStream(streamId, batch, { expectedVersion: 'no_stream' });
    await database.store.appendToStream(streamId, events(2));
    const again = await database.store.appendToStream(streamId, batch, { expectedVersion: 'no_stream' });
    expect(again).toEqual({ ...first, alreadyAppended: true });
    expect(await rowCount(`${database.schema}.messages where stream_id = $1`, [streamId])).toBe(5);
  });

  it('turns concurrent retries of one append into one write', async () => {
    const streamId = streamOf();
    const batch = events(4);
    const results = await Promise.all(Array.from({ length: 6 }, () => database.store.appendToStream(streamId, batch)));
    expect(results.filter((result) => !result.alreadyAppended)).toHaveLength(1);
    expect(new Set(results.map((result) => result.nextExpectedVersion))).toEqual(new Set([3n]));
    expect(await rowCount(`${database.schema}.messages where stream_id = $1`, [streamId])).toBe(4);
  });

  it('refuses an append of which only some events are stored', async () => {
    const streamId = streamOf();
    const batch = events(2);
    await database.store.appendToStream(streamId, batch.slice(0, 1));
    await expect(database.store.appendToStream(streamId, batch)).rejects.toThrow(EventIdConflictError);
    expect(await database.store.streamVersion(streamId)).toBe(0n);
  });

  it('refuses events already stored in another stream', async () => {
    const batch = events(1);
    await database.store.appendToStream(streamOf(), batch);
    await expect(database.store.appendToStream(streamOf(), batch)).rejects.toThrow(/already stored in stream 'payment-/);
  });
});

describe('event ids racing into two streams', () => {
  it('reports the loser as an id conflict, not a raw unique violation', async () => {
    const batch = events(1);
    const first = await database.pool.connect();
    try {
      await first.query('begin');
      await database.store.appendToStream(streamOf(), batch, { client: first });
      // The second append cannot see the first's uncommitted id, so it waits on the unique index.
      const second = database.store.appendToStream(streamOf(), batch);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await first.query('commit');
      await expect(second).rejects.toThrow(EventIdConflictError);
      await expect(second).rejects.toThrow(/stored concurrently by another append/);
    } finally {
      first.release();
    }
  });
});

describe('empty appends', () => {
  it('write nothing, return the current version (-1n for no stream) and still check the expectation', async () => {
    const streamId = streamOf();
    expect(await database.store.appendToStream(streamId, [])).toEqual({ streamId, nextExpectedVersion: -1n, alreadyAppended: false });
    expect(await rowCount(`${database.schema}.streams where stream_id = $1`, [streamId])).toBe(0);
    await database.store.appendToStream(streamId, events(2));
    expect((await database.store.appendToStream(streamId, [], { expectedVersion: 1n })).nextExpectedVersion).toBe(1n);
    await expect(database.store.appendToStream(streamId, [], { expectedVersion: 'no_stream' })).rejects.toThrow(WrongExpectedVersionError);
  });
});

describe('input validation', () => {
  it.each([
    ['a stream id without category', 'nocategory', events(1), /stream id "nocategory" is invalid/],
    ['a stream id with whitespace', 'payment-a b', events(1), /stream id "payment-a b" is invalid/],
    ['an event id that is not a UUID', 'payment-1', [{ id: '42', type: 'T', data: {} }], /id "42" is not a UUID/],
    ['an empty type', 'payment-1', [{ id: randomUUID(), type: '', data: {} }], /type "" must be a non-empty string/],
    ['a bigint in data', 'payment-1', [{ id: randomUUID(), type: 'T', data: { amount: 5n } }], /\$\.amount is a bigint; serialise it as a string/],
    ['a bigint in metadata', 'payment-1', [{ id: randomUUID(), type: 'T', data: {}, metadata: { at: 5n } }], /metadata: \$\.at is a bigint/],
  ])('refuses %s before writing anything', async (_name, streamId, batch, message) => {
    await expect(database.store.appendToStream(streamId, batch as NewEvent[])).rejects.toThrow(message);
    await expect(database.store.appendToStream(streamId, batch as NewEvent[])).rejects.toThrow(EventStoreInputError);
  });
});

describe('appends inside the caller’s transaction', () => {
  beforeAll(async () => {
    await database.pool.query(`create table ${database.schema}.test_inbox (event_id uuid primary key)`);
  });

  it('commits the caller’s own row and the events together', async () => {
    const streamId = streamOf();
    const inboxId = randomUUID();
    await withTransaction(database.pool, async (client) => {
      await client.query(`insert into ${database.schema}.test_inbox (event_id) values ($1)`, [inboxId]);
      await database.store.appendToStream(streamId, events(2), { client, expectedVersion: 'no_stream' });
    });
    expect(await rowCount(`${database.schema}.test_inbox where event_id = $1`, [inboxId])).toBe(1);
    expect(await database.store.streamVersion(streamId)).toBe(1n);
  });

  it('rolls back the caller’s row and the events together', async () => {
    const streamId = streamOf();
    const inboxId = randomUUID();
    await expect(
      withTransaction(database.pool, async (client) => {
        await client.query(`insert into ${database.schema}.test_inbox (event_id) values ($1)`, [inboxId]);
        await database.store.appendToStream(streamId, events(2), { client });
        throw new Error('handler failed after appending');
      }),
    ).rejects.toThrow('handler failed after appending');
    expect(await rowCount(`${database.schema}.test_inbox where event_id = $1`, [inboxId])).toBe(0);
    expect(await database.store.streamVersion(streamId)).toBe('no_stream');
  });

  it('records each append at the time it was written, not at the start of the caller’s transaction', async () => {
    const streamId = streamOf();
    await withTransaction(database.pool, async (client) => {
      await database.store.appendToStream(streamId, events(1), { client, expectedVersion: 'no_stream' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await database.store.appendToStream(streamId, events(1), { client, expectedVersion: 0n });
    });
    const [first, second] = await database.store.readStream(streamId);
    expect(second!.recordedAt.getTime() - first!.recordedAt.getTime()).toBeGreaterThanOrEqual(40);
  });

  it('sees its own uncommitted append when appending again to the same stream', async () => {
    const streamId = streamOf();
    await withTransaction(database.pool, async (client) => {
      await database.store.appendToStream(streamId, events(1), { client, expectedVersion: 'no_stream' });
      await database.store.appendToStream(streamId, events(1), { client, expectedVersion: 0n });
      expect((await database.store.readStream(streamId, { client })).map((event) => event.streamVersion)).toEqual([0n, 1n]);
    });
  });
});

describe('appendToStreams', () => {
  it('writes several streams at once and answers in the order asked', async () => {
    const [first, second, third] = [streamOf('account'), streamOf('account'), streamOf('hold')];
    await database.store.appendToStream(second, events(1));
    const results = await database.store.appendToStreams([
      { streamId: third, events: events(1), expectedVersion: 'no_stream' },
      { streamId: first, events: events(2) },
      { streamId: second, events: events(1), expectedVersion: 0n },
    ]);
    expect(results.map((result) => [result.streamId, result.nextExpectedVersion])).toEqual([[third, 0n], [first, 1n], [second, 1n]]);
  });

  it('writes nothing when one stream’s expectation fails', async () => {
    const [good, bad] = [streamOf('account'), streamOf('account')];
    await database.store.appendToStream(bad, events(1));
    await expect(
      database.store.appendToStreams([
        { streamId: good, events: events(1), expectedVersion: 'no_stream' },
        { streamId: bad, events: events(1), expectedVersion: 'no_stream' },
      ]),
    ).rejects.toThrow(WrongExpectedVersionError);
    expect(await database.store.streamVersion(good)).toBe('no_stream');
    expect(await database.store.streamVersion(bad)).toBe(0n);
  });

  it('reports a repeated stream as already appended and still writes the new ones of the same call', async () => {
    const [repeated, fresh] = [streamOf('account'), streamOf('account')];
    const repeatedEvents = events(2);
    const first = await database.store.appendToStream(repeated, repeatedEvents, { expectedVersion: 'no_stream' });
    const results = await database.store.appendToStreams([
      { streamId: fresh, events: events(3), expectedVersion: 'no_stream' },
      { streamId: repeated, events: repeatedEvents, expectedVersion: 'no_stream' },
    ]);
    expect(results).toEqual([
      expect.objectContaining({ streamId: fresh, nextExpectedVersion: 2n, alreadyAppended: false }),
      { ...first, alreadyAppended: true },
    ]);
    expect(await rowCount(`${database.schema}.messages where stream_id = $1`, [repeated])).toBe(2);
    expect(await rowCount(`${database.schema}.messages where stream_id = $1`, [fresh])).toBe(3);
  });

  it('writes a maximal call of many streams with contiguous versions and positions in input order', async () => {
    const streams = Array.from({ length: 50 }, () => streamOf('account'));
    await database.store.appendToStream(streams[7] as string, events(3));
    const appends = streams.map((streamId) => ({ streamId, events: events(200) }));
    const results = await database.store.appendToStreams(appends);
    expect(results.map((result) => result.nextExpectedVersion)).toEqual(streams.map((_, index) => (index === 7 ? 202n : 199n)));
    let previousLast = 0n;
    for (const [index, result] of results.entries()) {
      expect(result.lastGlobalPosition! - result.firstGlobalPosition!).toBe(199n);
      expect(result.firstGlobalPosition!).toBeGreaterThan(previousLast);
      previousLast = result.lastGlobalPosition!;
      const stored = await database.store.readStream(appends[index]!.streamId, { fromVersion: index === 7 ? 3n : 0n });
      expect(stored.map((event) => event.id)).toEqual(appends[index]!.events.map((event) => event.id));
      expect(stored.map((event) => event.streamVersion)).toEqual(stored.map((_, offset) => BigInt(offset + (index === 7 ? 3 : 0))));
    }
  });

  it('does not deadlock when writers take the same streams in opposite orders', async () => {
    const streams = Array.from({ length: 5 }, () => streamOf('account'));
    await Promise.all(
      Array.from({ length: 12 }, (_, writer) => {
        const order = writer % 2 === 0 ? streams : [...streams].reverse();
        return database.store.appendToStreams(order.map((streamId) => ({ streamId, events: events(1) })));
      }),
    );
    for (const streamId of streams) expect(await database.store.streamVersion(streamId)).toBe(11n);
  });
});

describe('readAll', () => {
  it('pages through $all without repeats and filters by category', async () => {
    const category = `cat${randomUUID().replaceAll('-', '').slice(0, 8)}`;
    const other = `oth${randomUUID().replaceAll('-', '').slice(0, 8)}`;
    const mine = [streamOf(category), streamOf(category)];
    for (const streamId of mine) await database.store.appendToStream(streamId, events(5));
    await database.store.appendToStream(streamOf(other), events(5));
    await untilVisible([category, other], 15);

    const seen: string[] = [];
    let after = START;
    for (let page = 0; page < 10; page += 1) {
      const result = await database.store.readAll({ after, maxCount: 3, categories: [category] });
      if (result.events.length === 0) break;
      seen.push(...result.events.map((event) => event.streamId));
      after = result.lastPosition;
    }
    expect(seen).toHaveLength(10);
    expect(new Set(seen)).toEqual(new Set(mine));

    const both = await database.store.readAll({ after: START, maxCount: 10_000, categories: [category, other] });
    expect(both.events.filter((event) => event.category === other)).toHaveLength(5);
    const empty = await database.store.readAll({ after: both.lastPosition, maxCount: 10, categories: [category, other] });
    expect(empty).toEqual({ events: [], lastPosition: both.lastPosition });
  });

  it('refuses an unbounded or malformed read', async () => {
    await expect(database.store.readAll({ after: START, maxCount: 0 })).rejects.toThrow(/maxCount/);
    await expect(database.store.readAll({ after: START, maxCount: 10_001 })).rejects.toThrow(/maxCount/);
    await expect(database.store.readAll({ after: 0n as never, maxCount: 1 })).rejects.toThrow(/AllPosition/);
    await expect(database.store.readAll({ after: START, maxCount: 1, categories: ['no-dash'] })).rejects.toThrow(/category/);
  });
});

describe('the schema', () => {
  it('refuses a row whose category disagrees with its stream id, whoever writes it', async () => {
    await expect(
      database.pool.query(
        `insert into ${database.schema}.messages (transaction_id, stream_id, stream_version, category, message_id, message_type, data)
         values (pg_current_xact_id(), 'payment-1', 0, 'account', $1, 'T', '{}')`,
        [randomUUID()],
      ),
    ).rejects.toThrow(/messages_category_matches_stream/);
  });
});

describe('upcasting on read', () => {
  it('upcasts old events in readStream and readAll, leaving the stored data alone', async () => {
    const streamId = streamOf('upcast');
    await database.store.appendToStream(streamId, [{ id: randomUUID(), type: 'PaymentRequested', data: { amount: 10.5 } }]);
    const store = database.storeWith({
      upcasters: [defineUpcaster<{ amount: number }, { amountMinor: string }>('PaymentRequested', 1, (data) => ({ amountMinor: String(Math.round(data.amount * 100)) }))],
    });
    const [read] = await store.readStream(streamId);
    expect(read).toMatchObject({ schemaVersion: 2, data: { amountMinor: '1050' } });
    await untilVisible(['upcast'], 1);
    const all = await store.readAll({ after: START, maxCount: 10_000, categories: ['upcast'] });
    expect(all.events[0]).toMatchObject({ schemaVersion: 2, data: { amountMinor: '1050' } });
    expect((await database.store.readStream(streamId))[0]).toMatchObject({ schemaVersion: 1, data: { amount: 10.5 } });
  });
});

describe('NOTIFY after an append', () => {
  /** Listens on a connection of its own and collects the payloads of this schema. */
  async function listening(): Promise<{ payloads: string[]; stop: () => Promise<void> }> {
    const client = await database.pool.connect();
    const payloads: string[] = [];
    client.on('notification', (message) => {
      if (message.payload?.startsWith(database.schema)) payloads.push(message.payload);
    });
    await client.query('listen event_store_appended');
    return {
      payloads,
      stop: async () => {
        await client.query('unlisten event_store_appended');
        client.release();
      },
    };
  }

  async function until(condition: () => boolean): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('no notification within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('names the categories written, in the store’s own transaction and in a caller’s', async () => {
    const listener = await listening();
    try {
      await database.store.appendToStreams([{ streamId: streamOf('ntfa'), events: events(1) }, { streamId: streamOf('ntfb'), events: events(2) }]);
      await until(() => listener.payloads.some((payload) => payload.includes('ntfa')));
      expect(listener.payloads).toContain(`${database.schema}:ntfa,ntfb`);

      await withTransaction(database.pool, async (client) => {
        await database.store.appendToStream(streamOf('ntfc'), events(1), { client });
      });
      await until(() => listener.payloads.some((payload) => payload.includes('ntfc')));
      expect(listener.payloads).toContain(`${database.schema}:ntfc`);
    } finally {
      await listener.stop();
    }
  }, 30_000);

  it('sends none for a repeated append that writes nothing', async () => {
    const streamId = streamOf('ntfd');
    const written = events(1);
    const listener = await listening();
    try {
      // The first append's NOTIFY follows its commit: wait for it before repeating the append.
      await database.store.appendToStream(streamId, written);
      await until(() => listener.payloads.some((payload) => payload.includes('ntfd')));
      await database.store.appendToStream(streamId, written);
      await database.store.appendToStream(streamOf('ntfe'), events(1));
      await until(() => listener.payloads.some((payload) => payload.includes('ntfe')));
      expect(listener.payloads.filter((payload) => payload.includes('ntfd'))).toEqual([`${database.schema}:ntfd`]);
    } finally {
      await listener.stop();
    }
  }, 30_000);
});
