// Proves catch-up subscriptions against a real PostgreSQL: history then live events, each handled
// once, in order, in batches no larger than asked; the checkpoint commits with the handler's writes
// or not at all; a failing handler is retried with backoff; a restart resumes at the checkpoint;
// two instances with one id never both handle an event; NOTIFY wakes a subscriber at once; stop()
// always returns promptly.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PoolClient } from 'pg';
import { createTestEventStore, type TestEventStore } from '../test-support/event-store-test-database.js';
import { CatchUpSubscription, type CatchUpSubscriptionOptions } from './catch-up-subscription.js';
import type { NewEvent, RecordedEvent } from './event-store.types.js';

let database: TestEventStore;
const running: CatchUpSubscription[] = [];

beforeAll(async () => {
  database = await createTestEventStore({ maxConnections: 12, applicationName: 'catch-up-subscription-int-spec' });
  await database.pool.query(`create table ${database.schema}.projected (
    sequence bigserial, event_id uuid primary key, subscription_id text not null, stream_id text not null, stream_version bigint not null)`);
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((subscription) => subscription.stop()));
});

afterAll(async () => {
  await database.dispose();
});

/** A category no other test writes to, so each test sees only its own events in the shared schema. */
function freshCategory(): string {
  return `c${randomUUID().replaceAll('-', '').slice(0, 10)}`;
}

function events(count: number): NewEvent[] {
  return Array.from({ length: count }, () => ({ id: randomUUID(), type: 'Happened', data: {} }));
}

async function project(subscriptionId: string, batch: RecordedEvent[], client: PoolClient): Promise<void> {
  await client.query(
    `insert into ${database.schema}.projected (event_id, subscription_id, stream_id, stream_version)
     select * from unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[])`,
    [batch.map((event) => event.id), batch.map(() => subscriptionId), batch.map((event) => event.streamId), batch.map((event) => event.streamVersion.toString())],
  );
}

async function projected(subscriptionId: string): Promise<{ event_id: string; stream_id: string; stream_version: string }[]> {
  const result = await database.pool.query(
    `select event_id, stream_id, stream_version from ${database.schema}.projected where subscription_id = $1 order by sequence`,
    [subscriptionId],
  );
  return result.rows;
}

async function waitFor(description: string, condition: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await sleep(20);
  }
}

function subscribe(options: Partial<CatchUpSubscriptionOptions> & Pick<CatchUpSubscriptionOptions, 'subscriptionId'>): CatchUpSubscription {
  const subscription = new CatchUpSubscription({
    store: database.store,
    pool: database.pool,
    pollIntervalMs: 50,
    handle: (batch, client) => project(options.subscriptionId, batch, client),
    ...options,
  });
  running.push(subscription);
  return subscription;
}

describe('CatchUpSubscription', () => {
  it('handles history then live events, each once, in stream order, in bounded batches, checkpointing with the handler', async () => {
    const category = freshCategory();
    const subscriptionId = `projector-${randomUUID()}`;
    const streams = Array.from({ length: 3 }, () => `${category}-${randomUUID()}`);
    for (const streamId of streams) await database.store.appendToStream(streamId, events(5));

    const batchSizes: number[] = [];
    const subscription = subscribe({
      subscriptionId,
      categories: [category],
      batchSize: 4,
      handle: async (batch, client) => {
        batchSizes.push(batch.length);
        await project(subscriptionId, batch, client);
      },
    });
    await subscription.start();
    await waitFor('history', async () => (await projected(subscriptionId)).length === 15);
    for (const streamId of streams) await database.store.appendToStream(streamId, events(3));
    await waitFor('live events', async () => (await projected(subscriptionId)).length === 24);

    const rows = await projected(subscriptionId);
    for (const streamId of streams) {
      expect(rows.filter((row) => row.stream_id === streamId).map((row) => Number(row.stream_version))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    }
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(4);
    const checkpoint = await database.pool.query(
      `select transaction_id::text, global_position::text from ${database.schema}.subscription_checkpoints where subscription_id = $1`,
      [subscriptionId],
    );
    expect(checkpoint.rows[0]).toEqual({ transaction_id: subscription.position().transactionId.toString(), global_position: subscription.position().globalPosition.toString() });
    expect(subscription.status()).toMatchObject({ state: 'running', processedEventCount: 24, consecutiveFailures: 0, caughtUp: true });
    expect(subscription.status().lastProcessedAt).toBeInstanceOf(Date);
  }, 30_000);

  it('rolls back the handler’s writes and the checkpoint together when the handler fails, then retries', async () => {
    const category = freshCategory();
    const subscriptionId = `flaky-${randomUUID()}`;
    await database.store.appendToStream(`${category}-${randomUUID()}`, events(6));
    const errors: { consecutiveFailures: number; retryInMs: number }[] = [];
    let calls = 0;
    const subscription = subscribe({
      subscriptionId,
      categories: [category],
      retry: { initialMs: 20, maxMs: 100 },
      onError: (_error, context) => errors.push(context),
      handle: async (batch, client) => {
        calls += 1;
        await project(subscriptionId, batch, client);
        if (calls <= 2) throw new Error(`handler failure ${calls}`);
      },
    });
    await subscription.start();
    await waitFor('recovery', async () => (await projected(subscriptionId)).length === 6);
    expect(errors.map((context) => context.consecutiveFailures)).toEqual([1, 2]);
    expect(subscription.status()).toMatchObject({ consecutiveFailures: 0, lastError: 'handler failure 2', processedEventCount: 6 });
  }, 30_000);

  it('resumes from its stored checkpoint after a restart', async () => {
    const category = freshCategory();
    const subscriptionId = `restart-${randomUUID()}`;
    const streamId = `${category}-${randomUUID()}`;
    await database.store.appendToStream(streamId, events(5));
    const first = subscribe({ subscriptionId, categories: [category] });
    await first.start();
    await waitFor('first run', async () => (await projected(subscriptionId)).length === 5);
    await first.stop();
    expect(first.status().state).toBe('stopped');

    await database.store.appendToStream(streamId, events(4));
    const handled: RecordedEvent[] = [];
    const second = subscribe({
      subscriptionId,
      categories: [category],
      handle: async (batch, client) => {
        handled.push(...batch);
        await project(subscriptionId, batch, client);
      },
    });
    await second.start();
    expect(second.position()).toEqual(first.position());
    await waitFor('second run', async () => (await projected(subscriptionId)).length === 9);
    expect(handled.map((event) => event.streamVersion)).toEqual([5n, 6n, 7n, 8n]);
  }, 30_000);

  it('never lets two instances with the same id both handle an event', async () => {
    const category = freshCategory();
    const subscriptionId = `competing-${randomUUID()}`;
    const errors: unknown[] = [];
    const instances = [0, 1].map(() => subscribe({ subscriptionId, categories: [category], batchSize: 7, pollIntervalMs: 10, onError: (error) => errors.push(error) }));
    await Promise.all(instances.map((instance) => instance.start()));
    for (let round = 0; round < 20; round += 1) await database.store.appendToStream(`${category}-${randomUUID()}`, events(10));
    // A second handling of any event would hit the projection's primary key and be reported.
    await waitFor('all events', async () => (await projected(subscriptionId)).length === 200);
    await sleep(200);
    expect(errors).toEqual([]);
    expect(instances.reduce((total, instance) => total + instance.status().processedEventCount, 0)).toBe(200);
  }, 30_000);

  it('wakes on NOTIFY without waiting for its poll interval', async () => {
    const category = freshCategory();
    const subscriptionId = `listener-${randomUUID()}`;
    const subscription = subscribe({ subscriptionId, categories: [category], pollIntervalMs: 60_000 });
    await subscription.start();
    await sleep(300); // the first read found nothing; the loop now sleeps for up to a minute
    const appendedAt = Date.now();
    await database.store.appendToStream(`${category}-${randomUUID()}`, events(1));
    await waitFor('the notified event', async () => (await projected(subscriptionId)).length === 1, 10_000);
    expect(Date.now() - appendedAt).toBeLessThan(10_000);
  }, 30_000);

  it('is not woken by appends to categories it does not read', async () => {
    const category = freshCategory();
    const other = freshCategory();
    const subscriptionId = `not-mine-${randomUUID()}`;
    let reads = 0;
    const countingStore = new Proxy(database.store, {
      get(target, property, receiver) {
        if (property === 'readAll') return (...args: Parameters<typeof target.readAll>) => ((reads += 1), target.readAll(...args));
        return Reflect.get(target, property, receiver);
      },
    });
    const subscription = subscribe({ subscriptionId, store: countingStore, categories: [category], pollIntervalMs: 60_000 });
    await subscription.start();
    await sleep(1_500); // the rechecks after the start's read are over; the loop sleeps for a minute
    const readsBefore = reads;
    for (let index = 0; index < 10; index += 1) await database.store.appendToStream(`${other}-${randomUUID()}`, events(1));
    await sleep(500);
    expect(reads).toBe(readsBefore);
    await database.store.appendToStream(`${category}-${randomUUID()}`, events(1));
    await waitFor('its own category’s event', async () => (await projected(subscriptionId)).length === 1, 10_000);
    expect(reads).toBeGreaterThan(readsBefore);
  }, 30_000);

  it('with minReadIntervalMs, gathers appends arriving one by one into a few batches, and still delivers each once', async () => {
    const category = freshCategory();
    const subscriptionId = `gathering-${randomUUID()}`;
    const batchSizes: number[] = [];
    const subscription = subscribe({
      subscriptionId,
      categories: [category],
      pollIntervalMs: 60_000,
      minReadIntervalMs: 400,
      handle: async (batch, client) => {
        batchSizes.push(batch.length);
        await project(subscriptionId, batch, client);
      },
    });
    await subscription.start();
    await sleep(300);
    for (let index = 0; index < 20; index += 1) {
      await database.store.appendToStream(`${category}-${randomUUID()}`, events(1));
      await sleep(20);
    }
    await waitFor('all 20 events', async () => (await projected(subscriptionId)).length === 20, 10_000);
    // ~400 ms of appends: without the interval a notified subscription reads once per append or so.
    expect(batchSizes.length).toBeLessThanOrEqual(4);
    expect(batchSizes.reduce((sum, size) => sum + size, 0)).toBe(20);
    expect(() => new CatchUpSubscription({ store: database.store, pool: database.pool, subscriptionId: 'x', minReadIntervalMs: -1, handle: async () => undefined })).toThrow(RangeError);
  }, 30_000);

  it('wakes for an append inside a caller’s transaction when that transaction commits', async () => {
    const category = freshCategory();
    const subscriptionId = `caller-tx-${randomUUID()}`;
    const subscription = subscribe({ subscriptionId, categories: [category], pollIntervalMs: 60_000 });
    await subscription.start();
    await sleep(300);
    const client = await database.pool.connect();
    try {
      await client.query('begin');
      await database.store.appendToStream(`${category}-${randomUUID()}`, events(1), { client });
      await sleep(300);
      expect(await projected(subscriptionId)).toHaveLength(0); // not visible, not notified yet
      await client.query('commit');
    } finally {
      client.release();
    }
    await waitFor('the event committed by the caller', async () => (await projected(subscriptionId)).length === 1, 10_000);
  }, 30_000);

  it('delivers every event of a burst of concurrent appends without waiting for a poll (coalesced NOTIFY)', async () => {
    const category = freshCategory();
    const subscriptionId = `burst-${randomUUID()}`;
    const subscription = subscribe({ subscriptionId, categories: [category], pollIntervalMs: 60_000 });
    await subscription.start();
    await sleep(300);
    await Promise.all(Array.from({ length: 40 }, () => database.store.appendToStream(`${category}-${randomUUID()}`, events(1))));
    await waitFor('all 40 events of the burst', async () => (await projected(subscriptionId)).length === 40, 10_000);
  }, 30_000);

  it('delivers a notified event that was held back by an older open transaction soon after that transaction ends', async () => {
    const category = freshCategory();
    const subscriptionId = `held-back-${randomUUID()}`;
    const subscription = subscribe({ subscriptionId, categories: [category], pollIntervalMs: 60_000 });
    await subscription.start();
    const older = await database.pool.connect();
    try {
      await older.query('begin');
      await older.query('select pg_current_xact_id()'); // holds the horizon; ends without a notification
      await database.store.appendToStream(`${category}-${randomUUID()}`, events(1));
      await sleep(300);
      expect(await projected(subscriptionId)).toHaveLength(0);
      await older.query('commit');
    } finally {
      older.release();
    }
    await waitFor('the held-back event', async () => (await projected(subscriptionId)).length === 1, 10_000);
  }, 30_000);

  it('keeps going, and listening, after its listening connection is killed', async () => {
    const category = freshCategory();
    const subscriptionId = `relisten-${randomUUID()}`;
    const errors: unknown[] = [];
    const subscription = subscribe({ subscriptionId, categories: [category], pollIntervalMs: 200, onError: (error) => errors.push(error) });
    await subscription.start();
    const killed = await database.pool.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
       where datname = current_database() and application_name = 'catch-up-subscription-int-spec' and query = 'listen event_store_appended' and pid <> pg_backend_pid()`,
    );
    expect(killed.rowCount).toBe(1);
    await waitFor('the listener failure to be reported', () => errors.length >= 1);
    await database.store.appendToStream(`${category}-${randomUUID()}`, events(2));
    await waitFor('events after the reconnect', async () => (await projected(subscriptionId)).length === 2);
    await waitFor('a new listening connection', async () => {
      const listening = await database.pool.query(
        `select 1 from pg_stat_activity where application_name = 'catch-up-subscription-int-spec' and query = 'listen event_store_appended'`,
      );
      return listening.rowCount === 1;
    });
  }, 30_000);

  it('stops promptly while backing off from a failing handler', async () => {
    const category = freshCategory();
    await database.store.appendToStream(`${category}-${randomUUID()}`, events(1));
    let failures = 0;
    const subscription = subscribe({
      subscriptionId: `stuck-${randomUUID()}`,
      categories: [category],
      retry: { initialMs: 60_000, maxMs: 60_000 },
      handle: async () => {
        failures += 1;
        throw new Error('always fails');
      },
    });
    await subscription.start();
    await waitFor('the first failure', () => failures === 1);
    const stopping = Date.now();
    await subscription.stop();
    expect(Date.now() - stopping).toBeLessThan(1_000);
    expect(subscription.status()).toMatchObject({ state: 'stopped', consecutiveFailures: 1, lastError: 'always fails' });
  }, 30_000);

  it('finishes the batch in progress when stopped, and commits it', async () => {
    const category = freshCategory();
    const subscriptionId = `graceful-${randomUUID()}`;
    await database.store.appendToStream(`${category}-${randomUUID()}`, events(3));
    let entered!: () => void;
    const handlerEntered = new Promise<void>((resolve) => (entered = resolve));
    const subscription = subscribe({
      subscriptionId,
      categories: [category],
      handle: async (batch, client) => {
        entered();
        await sleep(300);
        await project(subscriptionId, batch, client);
      },
    });
    await subscription.start();
    await handlerEntered;
    await subscription.stop();
    expect(await projected(subscriptionId)).toHaveLength(3);
    expect(subscription.status().processedEventCount).toBe(3);
  }, 30_000);

  it('accepts stop() before start() and repeated stops, and refuses a second start', async () => {
    const subscription = subscribe({ subscriptionId: `idle-${randomUUID()}` });
    await subscription.stop();
    await subscription.stop();
    await expect(subscription.start()).rejects.toThrow(/cannot start: it is stopped/);
  });

  it('stops cleanly when stop() is called while start() is still loading', async () => {
    const subscription = subscribe({ subscriptionId: `racing-${randomUUID()}` });
    const starting = subscription.start();
    await subscription.stop();
    await starting;
    expect(subscription.status().state).toBe('stopped');
    const listening = await database.pool.query(
      `select 1 from pg_stat_activity where application_name = 'catch-up-subscription-int-spec' and state = 'idle' and query = 'listen event_store_appended'`,
    );
    expect(listening.rowCount).toBe(0);
  });

  it('refuses unbounded settings', () => {
    expect(() => subscribe({ subscriptionId: 'x', batchSize: 0 })).toThrow(/batchSize/);
    expect(() => subscribe({ subscriptionId: 'x', batchSize: 1_000_000 })).toThrow(/batchSize/);
    expect(() => subscribe({ subscriptionId: 'x', pollIntervalMs: 0 })).toThrow(/pollIntervalMs/);
    expect(() => subscribe({ subscriptionId: '' })).toThrow(/subscriptionId/);
    running.splice(0);
  });
});
