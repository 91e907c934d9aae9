// Proves the outbox relay against a real PostgreSQL event store and a real Kafka: every contract event
// of the relay's categories reaches Kafka once per run, keyed by stream id, in stream order, with the
// standard headers, and nothing internal or foreign does; a relay that dies between the broker's ack
// and its checkpoint loses nothing, and its successor re-sends only that unacknowledged batch; of two
// relays with one name only the leader publishes, and the follower takes over from the checkpoint
// within its poll interval when the leader stops or loses its connection (which it gives back); a
// failing publish (an error, a missing topic) never advances the checkpoint and everything is published
// after recovery; a publish in flight holds no transaction open, so a slow Kafka does not hold back the
// other readers of $all; stop() during a leadership attempt leaves nothing running; a relay that takes
// the lead but cannot start publishing makes start() fail; a checkpoint an operator sets back is
// replayed from; and a stored event that breaks its contract goes to the dead-letter topic with the
// reason instead of stopping the relay.
import { randomUUID } from 'node:crypto';
import { jest } from '@jest/globals';
import { compareAllPositions, PostgresEventStore, type AllPosition } from '@clearline/event-store';
import type { MessagePublisher } from '@clearline/messaging';
import type { Pool, PoolClient } from 'pg';
import { OutboxRelay, toEnvelope, type OutboxRelayOptions } from './outbox-relay.js';
import {
  advisoryLockHolders,
  appendPayments,
  countById,
  createRelayTestDatabase,
  firstOccurrences,
  freshCategories,
  idsByKey,
  publishedIds,
  readTopics,
  ScriptedPublisher,
  testKafkaSettings,
  testLogger,
  TestTopics,
  uniqueSuffix,
  waitFor,
  type AppendedEvents,
  type PublisherScript,
  type PublishedRecord,
  type RelayTestDatabase,
  type TestCategories,
} from './outbox-relay.test-kit.js';

jest.setTimeout(120_000);

const LEADER_POLL_INTERVAL_MS = 300;
/** Room for a timer, a connect and a lock query on a busy machine, on top of the poll interval. */
const TAKEOVER_SLACK_MS = 700;

const settings = testKafkaSettings('outbox-relay-it');
let database: RelayTestDatabase;
const relays: OutboxRelay[] = [];
const publishers: MessagePublisher[] = [];
const topicSets: TestTopics[] = [];

beforeAll(async () => {
  database = await createRelayTestDatabase('outbox-relay-int-spec');
});

afterEach(async () => {
  await Promise.all(relays.splice(0).map((relay) => relay.stop()));
  await Promise.all(publishers.splice(0).map((publisher) => publisher.disconnect().catch(() => undefined)));
});

afterAll(async () => {
  await Promise.all(topicSets.map((topics) => topics.delete().catch(() => undefined)));
  await database.dispose();
});

async function freshTopics(create = true): Promise<TestTopics> {
  const topics = new TestTopics(settings);
  topicSets.push(topics);
  if (create) await topics.create();
  return topics;
}

async function connectedPublisher(topics: TestTopics, script: PublisherScript = {}, cleanUp = true): Promise<ScriptedPublisher> {
  const publisher = new ScriptedPublisher(settings, topics, script);
  await publisher.connect();
  if (cleanUp) publishers.push(publisher);
  return publisher;
}

/** A relay; given a pool of its own, it also reads through a store on that pool, as a separate process would. */
function relayOf(options: Pick<OutboxRelayOptions, 'name' | 'publisher'> & Partial<OutboxRelayOptions>, cleanUp = true): OutboxRelay {
  const pool = options.pool ?? database.pool;
  const relay = new OutboxRelay({
    store: options.pool === undefined ? database.store : new PostgresEventStore(pool, { schema: database.schema }),
    pool,
    logger: testLogger(),
    leaderPollIntervalMs: LEADER_POLL_INTERVAL_MS,
    batchSize: 7,
    ...options,
    categories: options.categories ?? [],
  });
  if (cleanUp) relays.push(relay);
  return relay;
}

function ownedBy(categories: TestCategories): string[] {
  return [categories.payment, categories.risk];
}

async function waitForCheckpoint(relayName: string, position: AllPosition, timeoutMs?: number): Promise<void> {
  await waitFor(
    `relay ${relayName} to checkpoint ${position.transactionId}:${position.globalPosition}`,
    async () => {
      const checkpoint = await database.checkpointOf(relayName);
      return checkpoint?.transactionId === position.transactionId && checkpoint.globalPosition === position.globalPosition;
    },
    timeoutMs,
  );
}

function sortedEntries(map: Map<string, string[]>): [string, string[]][] {
  return [...map].sort(([left], [right]) => left.localeCompare(right));
}

/** Every appended contract message at least once; a consumer that de-duplicates by id sees each stream in order. */
function expectNothingLostInStreamOrder(records: readonly PublishedRecord[], appended: AppendedEvents): void {
  const byKey = new Map([...idsByKey(records)].map(([key, ids]) => [key, firstOccurrences(ids)]));
  expect(sortedEntries(byKey)).toEqual(sortedEntries(appended.published));
}

function expectNothingInternalOrForeign(records: readonly PublishedRecord[], appended: AppendedEvents): void {
  const present = new Set(records.map((record) => record.messageId));
  expect([...appended.internal, ...appended.foreign].filter((id) => present.has(id))).toEqual([]);
}

function duplicatedIds(records: readonly PublishedRecord[]): string[] {
  return [...countById(records)].filter(([, count]) => count > 1).map(([id]) => id);
}

/** A Pool whose first connect() waits for `gate`, to hold a relay inside its leadership attempt. */
function poolWithGatedFirstConnect(pool: Pool, reached: () => void, gate: Promise<void>): Pool {
  let gated = true;
  const connect = async (): Promise<PoolClient> => {
    if (gated) {
      gated = false;
      reached();
      await gate;
    }
    return pool.connect();
  };
  return new Proxy(pool, {
    get(target, property) {
      if (property === 'connect') return connect;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

describe('OutboxRelay', () => {
  it('publishes every contract event of its categories once per run, keyed by stream id, in stream order, with the standard headers; internal and foreign events stay inside', async () => {
    const categories = freshCategories();
    const topics = await freshTopics();
    const publisher = await connectedPublisher(topics);
    const name = `relay-${uniqueSuffix()}`;
    const appended = await appendPayments(database.store, categories, 8);

    const relay = relayOf({ name, categories: ownedBy(categories), publisher });
    await relay.start();
    await appendPayments(database.store, categories, 4, appended);
    await waitForCheckpoint(name, await database.lastPositionOf(ownedBy(categories)));

    const records = await readTopics(settings, [topics.payments, topics.risk]);
    expect(records).toHaveLength(publishedIds(appended).length);
    expect(duplicatedIds(records)).toEqual([]);
    expect(sortedEntries(idsByKey(records))).toEqual(sortedEntries(appended.published));
    expectNothingInternalOrForeign(records, appended);
    expect(Math.max(...publisher.calls.map((call) => call.envelopeIds.length))).toBeLessThanOrEqual(7);

    const stored = new Map<string, ReturnType<typeof toEnvelope>>();
    for (const streamId of appended.published.keys()) {
      for (const event of await database.store.readStream(streamId)) stored.set(event.id, toEnvelope(event));
    }
    for (const record of records) {
      const envelope = stored.get(record.messageId ?? '');
      expect(record.envelope).toEqual(envelope);
      expect(record.topic).toBe(record.key?.startsWith(categories.risk) ? topics.risk : topics.payments);
      expect(record.headers).toEqual({
        'message-id': envelope?.id,
        'message-type': envelope?.type,
        'schema-version': '1',
        'correlation-id': envelope?.metadata.correlationId,
        'causation-id': envelope?.metadata.causationId,
        producer: envelope?.metadata.producer,
        'content-type': 'application/json',
      });
    }

    // A clean stop leaves the checkpoint at the last ack: the next run publishes nothing again.
    await relay.stop();
    const nextPublisher = await connectedPublisher(topics);
    await relayOf({ name, categories: ownedBy(categories), publisher: nextPublisher }).start();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(nextPublisher.calls).toEqual([]);
  });

  it('loses nothing when the relay dies between the broker’s ack and its checkpoint; the next relay re-sends only that batch, in stream order', async () => {
    const categories = freshCategories();
    const topics = await freshTopics();
    const name = `relay-${uniqueSuffix()}`;
    const appended = await appendPayments(database.store, categories, 10);

    const dyingName = `outbox-relay-it-dying-${uniqueSuffix()}`;
    const dyingPool = database.separatePool(dyingName);
    const died = deferred();
    let unacknowledged: string[] = [];
    const dyingPublisher = await connectedPublisher(
      topics,
      {
        after: async (call) => {
          if (call.index < 2) return;
          // The third batch is on the broker; the process dies before its checkpoint is stored.
          unacknowledged = call.envelopeIds;
          died.resolve();
          await new Promise(() => undefined);
        },
      },
      false,
    );
    const dying = relayOf({ name, categories: ownedBy(categories), publisher: dyingPublisher, pool: dyingPool }, false);
    await dying.start();
    await died.promise;
    expect(await database.terminateSessions(dyingName)).toBeGreaterThan(0);
    void dyingPool.end().catch(() => undefined);
    await dyingPublisher.disconnect();
    // Whatever the dead relay's objects still do, they cannot reach PostgreSQL or Kafka any more.
    void dying.stop();
    const checkpointAtDeath = await database.checkpointOf(name);

    const successorPublisher = await connectedPublisher(topics);
    await relayOf({ name, categories: ownedBy(categories), publisher: successorPublisher }).start();
    await appendPayments(database.store, categories, 2, appended);
    await waitForCheckpoint(name, await database.lastPositionOf(ownedBy(categories)));

    const records = await readTopics(settings, [topics.payments, topics.risk]);
    expect(unacknowledged.length).toBeGreaterThan(0);
    expectNothingLostInStreamOrder(records, appended);
    expectNothingInternalOrForeign(records, appended);
    // Only the batch the broker had acknowledged but the checkpoint had not recorded comes twice.
    expect(duplicatedIds(records).sort()).toEqual([...unacknowledged].sort());
    expect(Math.max(...countById(records).values())).toBe(2);
    expect(successorPublisher.calls[0]?.envelopeIds).toEqual(unacknowledged);
    // The checkpoint stood after the acknowledged batches and before the unacknowledged one.
    const positions = await positionsOf(ownedBy(categories));
    const lastAcknowledged = dyingPublisher.calls[1]?.envelopeIds.at(-1) ?? '';
    expect(comparePositions(checkpointAtDeath, positions.get(lastAcknowledged))).toBeGreaterThanOrEqual(0);
    expect(comparePositions(checkpointAtDeath, positions.get(unacknowledged[0] ?? ''))).toBeLessThan(0);
  });

  it('lets only the leader of two same-named relays publish, and the follower takes over from the checkpoint within its poll interval when the leader stops', async () => {
    const categories = freshCategories();
    const topics = await freshTopics();
    const name = `relay-${uniqueSuffix()}`;
    const appended = await appendPayments(database.store, categories, 4);

    const instances = ['a', 'b'].map((instance) => ({ applicationName: `outbox-relay-it-${instance}-${uniqueSuffix()}`, publisher: undefined as ScriptedPublisher | undefined, relay: undefined as OutboxRelay | undefined }));
    for (const instance of instances) {
      instance.publisher = await connectedPublisher(topics);
      instance.relay = relayOf({ name, categories: ownedBy(categories), publisher: instance.publisher, pool: database.separatePool(instance.applicationName) });
      await instance.relay.start();
    }
    // Appends keep arriving while both relays run.
    for (let round = 0; round < 3; round += 1) await appendPayments(database.store, categories, 2, appended);
    await waitForCheckpoint(name, await database.lastPositionOf(ownedBy(categories)));

    const [first, second] = instances as [(typeof instances)[number], (typeof instances)[number]];
    const leader = (first.publisher?.calls.length ?? 0) > 0 ? first : second;
    const follower = leader === first ? second : first;
    expect(leader.publisher?.calls.length).toBeGreaterThan(0);
    expect(follower.publisher?.calls).toEqual([]);
    expect(await advisoryLockHolders(database.pool, leader.applicationName)).toBe(1);
    expect(await advisoryLockHolders(database.pool, follower.applicationName)).toBe(0);

    await leader.relay?.stop();
    const stoppedAt = Date.now();
    await waitFor('the follower to take the lead', async () => (await advisoryLockHolders(database.pool, follower.applicationName)) === 1);
    expect(Date.now() - stoppedAt).toBeLessThanOrEqual(LEADER_POLL_INTERVAL_MS + TAKEOVER_SLACK_MS);

    await appendPayments(database.store, categories, 3, appended);
    await waitForCheckpoint(name, await database.lastPositionOf(ownedBy(categories)));
    const records = await readTopics(settings, [topics.payments, topics.risk]);
    // A clean handover: each message exactly once, each stream in order.
    expect(records).toHaveLength(publishedIds(appended).length);
    expect(duplicatedIds(records)).toEqual([]);
    expect(sortedEntries(idsByKey(records))).toEqual(sortedEntries(appended.published));
    const leaderEnded = Math.max(...(leader.publisher?.calls ?? []).map((call) => call.endedAt ?? Infinity));
    expect(Math.min(...(follower.publisher?.calls ?? []).map((call) => call.startedAt))).toBeGreaterThanOrEqual(leaderEnded);
  });

  it('steps a leader down when its lock connection dies, giving the connection back; the follower takes over and nothing is lost', async () => {
    const categories = freshCategories();
    const topics = await freshTopics();
    const name = `relay-${uniqueSuffix()}`;
    const appended = await appendPayments(database.store, categories, 4);

    const leaderName = `outbox-relay-it-leader-${uniqueSuffix()}`;
    const leaderPool = database.separatePool(leaderName);
    const leaderPublisher = await connectedPublisher(topics);
    // A long poll interval of its own keeps the deposed leader from winning the lock straight back.
    const leader = relayOf({ name, categories: ownedBy(categories), publisher: leaderPublisher, pool: leaderPool, leaderPollIntervalMs: 10_000 });
    await leader.start();
    await waitForCheckpoint(name, await database.lastPositionOf(ownedBy(categories)));

    const followerName = `outbox-relay-it-follower-${uniqueSuffix()}`;
    const followerPublisher = await connectedPublisher(topics);
    await relayOf({ name, categories: ownedBy(categories), publisher: followerPublisher, pool: database.separatePool(followerName) }).start();

    expect(await database.terminateSessions(leaderName, `pid in (select pid from pg_locks where locktype = 'advisory' and granted)`)).toBe(1);
    const lostAt = Date.now();
    await waitFor('the follower to take the lead', async () => (await advisoryLockHolders(database.pool, followerName)) === 1);
    expect(Date.now() - lostAt).toBeLessThanOrEqual(LEADER_POLL_INTERVAL_MS + TAKEOVER_SLACK_MS);

    await appendPayments(database.store, categories, 4, appended);
    await waitForCheckpoint(name, await database.lastPositionOf(ownedBy(categories)));
    const records = await readTopics(settings, [topics.payments, topics.risk]);
    expectNothingLostInStreamOrder(records, appended);
    expectNothingInternalOrForeign(records, appended);
    expect(followerPublisher.calls.length).toBeGreaterThan(0);
    // The deposed leader published nothing it had not started before it lost the lock.
    expect(leaderPublisher.calls.filter((call) => call.startedAt > lostAt + LEADER_POLL_INTERVAL_MS)).toEqual([]);

    // Its dead lock connection went back to the pool instead of staying checked out forever.
    await leader.stop();
    expect(leaderPool.totalCount - leaderPool.idleCount).toBe(0);
  });

  it('re-publishes from where an operator set the checkpoint back, at its next batch', async () => {
    const categories = freshCategories();
    const topics = await freshTopics();
    const publisher = await connectedPublisher(topics);
    const name = `relay-${uniqueSuffix()}`;
    const appended = await appendPayments(database.store, categories, 2);
    await relayOf({ name, categories: ownedBy(categories), publisher }).start();
    await waitForCheckpoint(name, await database.lastPositionOf(ownedBy(categories)));
    const firstRun = publishedIds(appended);

    await database.pool.query(`update ${database.schema}.subscription_checkpoints set transaction_id = '0', global_position = 0 where subscription_id = $1`, [`outbox-relay:${name}`]);
    await appendPayments(database.store, categories, 2, appended);
    await waitForCheckpoint(name, await database.lastPositionOf(ownedBy(categories)));

    const records = await readTopics(settings, [topics.payments, topics.risk]);
    const counts = countById(records);
    expect(firstRun.filter((id) => counts.get(id) !== 2)).toEqual([]);
    expectNothingLostInStreamOrder(records, appended);
  });

  it('does not advance the checkpoint while publishing fails, and publishes everything once the publisher recovers', async () => {
    const categories = freshCategories();
    const topics = await freshTopics();
    const name = `relay-${uniqueSuffix()}`;
    const appended = await appendPayments(database.store, categories, 5);
    const failures = 4;
    const publisher = await connectedPublisher(topics, {
      before: (call) => {
        if (call.index < failures) throw new Error(`broker unavailable (simulated failure ${call.index + 1} of ${failures})`);
      },
    });

    await relayOf({ name, categories: ownedBy(categories), publisher }).start();
    await waitFor('the failures', () => publisher.calls.length >= failures - 1);
    expect(await database.checkpointOf(name)).toEqual({ transactionId: 0n, globalPosition: 0n });
    await waitForCheckpoint(name, await database.lastPositionOf(ownedBy(categories)));

    expect(publisher.calls.slice(0, failures).map((call) => call.outcome)).toEqual(Array(failures).fill('failed'));
    // The failed batch is retried as it was, from the unchanged checkpoint.
    expect(publisher.calls[failures]?.envelopeIds).toEqual(publisher.calls[0]?.envelopeIds);
    const records = await readTopics(settings, [topics.payments, topics.risk]);
    expect(records).toHaveLength(publishedIds(appended).length);
    expect(sortedEntries(idsByKey(records))).toEqual(sortedEntries(appended.published));
  });

  it('does not advance the checkpoint while a topic does not exist, and publishes everything once it is created', async () => {
    const categories = freshCategories();
    const topics = await freshTopics(false);
    await topics.create([topics.payments]);
    const name = `relay-${uniqueSuffix()}`;
    const appended = await appendPayments(database.store, categories, 3);
    const publisher = await connectedPublisher(topics);

    await relayOf({ name, categories: ownedBy(categories), publisher }).start();
    await waitFor('a failed publish to the missing topic', () => publisher.calls.some((call) => call.outcome === 'failed'));
    expect(await database.checkpointOf(name)).toEqual({ transactionId: 0n, globalPosition: 0n });

    await topics.create([topics.risk]);
    await waitForCheckpoint(name, await database.lastPositionOf(ownedBy(categories)), 90_000);
    const records = await readTopics(settings, [topics.payments, topics.risk]);
    // A batch spanning both topics may have reached the existing one before failing: at least once.
    expectNothingLostInStreamOrder(records, appended);
    expectNothingInternalOrForeign(records, appended);
  });

  it('holds no transaction open while a publish is in flight, so a slow Kafka does not hold back the other readers of $all', async () => {
    const categories = freshCategories();
    const topics = await freshTopics();
    const name = `relay-${uniqueSuffix()}`;
    await appendPayments(database.store, categories, 1);
    const inPublish = deferred();
    const brokerAnswers = deferred();
    const publisher = await connectedPublisher(topics, {
      before: async (call) => {
        if (call.index > 0) return;
        inPublish.resolve();
        await brokerAnswers.promise;
      },
    });
    const otherCategory = `other${uniqueSuffix()}`;
    const before = await database.lastPositionOf([otherCategory]);

    await relayOf({ name, categories: ownedBy(categories), publisher }).start();
    await inPublish.promise;
    try {
      const otherEvent = { id: randomUUID(), type: 'SomethingHappened', data: {} };
      await database.store.appendToStream(`${otherCategory}-1`, [otherEvent]);
      // Another service's subscriber must see the event while the relay waits for the broker.
      await waitFor(
        'another reader of $all to see a committed event',
        async () => (await database.store.readAll({ after: before, maxCount: 10, categories: [otherCategory] })).events.some((event) => event.id === otherEvent.id),
        3_000,
      );
    } finally {
      brokerAnswers.resolve();
    }
    await waitForCheckpoint(name, await database.lastPositionOf(ownedBy(categories)));
  });

  it('leaves no relay publishing and no lock held when stop() comes during a leadership attempt', async () => {
    const categories = freshCategories();
    const topics = await freshTopics();
    const name = `relay-${uniqueSuffix()}`;
    await appendPayments(database.store, categories, 1);
    const publisher = await connectedPublisher(topics);
    const applicationName = `outbox-relay-it-stopping-${uniqueSuffix()}`;
    const attempting = deferred();
    const connectMayGoOn = deferred();
    const pool = poolWithGatedFirstConnect(database.separatePool(applicationName), attempting.resolve, connectMayGoOn.promise);
    const relay = relayOf({ name, categories: ownedBy(categories), publisher, pool });

    const starting = relay.start();
    await attempting.promise;
    const stopping = relay.stop();
    // The attempt goes on after stop() was called, as a follower's timer-driven attempt would.
    connectMayGoOn.resolve();
    await Promise.all([starting.catch(() => undefined), stopping]);

    await new Promise((resolve) => setTimeout(resolve, 3 * LEADER_POLL_INTERVAL_MS));
    expect(await advisoryLockHolders(database.pool, applicationName)).toBe(0);
    expect(publisher.calls).toEqual([]);
    expect(await database.checkpointOf(name)).toBeUndefined();
  });

  it('fails start() when it takes the lead but cannot start publishing (no event store schema)', async () => {
    const topics = await freshTopics(false);
    const publisher = await connectedPublisher(topics);
    const missing = new PostgresEventStore(database.pool, { schema: `outbox_relay_missing_${uniqueSuffix()}` });
    const relay = relayOf({ name: `relay-${uniqueSuffix()}`, categories: ['payment'], publisher, store: missing });

    await expect(relay.start()).rejects.toThrow(/does not exist/);
    await relay.stop();
    expect(await advisoryLockHolders(database.pool, 'outbox-relay-int-spec')).toBe(0);
  });

  it('sends a stored event that breaks its contract to the dead-letter topic with the reason and goes on with the events after it', async () => {
    const categories = freshCategories();
    const topics = await freshTopics();
    await topics.createDeadLetter();
    const publisher = await connectedPublisher(topics);
    const name = `relay-${uniqueSuffix()}`;
    const appended = await appendPayments(database.store, categories, 2);
    // Stored by an older or buggy writer: a contract type whose data no longer passes its schema.
    const poisonedStream = `${categories.payment}-${randomUUID()}`;
    const poisoned = { id: randomUUID(), type: 'PaymentCaptured', data: { paymentId: 'not-a-uuid' }, metadata: { correlationId: randomUUID(), causationId: randomUUID(), occurredAt: new Date().toISOString(), producer: 'payments' } };
    await database.store.appendToStream(poisonedStream, [poisoned]);
    await appendPayments(database.store, categories, 2, appended);

    await relayOf({ name, categories: ownedBy(categories), publisher }).start();
    await waitForCheckpoint(name, await database.lastPositionOf(ownedBy(categories)));

    const records = await readTopics(settings, [topics.payments, topics.risk]);
    expect(records).toHaveLength(publishedIds(appended).length);
    expectNothingLostInStreamOrder(records, appended);
    const [deadLetter, ...more] = await readTopics(settings, [topics.paymentsDeadLetter]);
    expect(more).toEqual([]);
    expect(deadLetter?.messageId).toBe(poisoned.id);
    expect(deadLetter?.key).toBe(poisonedStream);
    expect(deadLetter?.allHeaders['dlq-reason']).toMatch(/^PaymentCaptured: data/);
    expect(deadLetter?.allHeaders['dlq-consumer-group']).toMatch(/^producer:outbox-relay-it-/);
  });
});

/** Every event id of `categories` with its $all position. */
async function positionsOf(categories: string[]): Promise<Map<string, AllPosition>> {
  const positions = new Map<string, AllPosition>();
  let after: AllPosition = { transactionId: 0n, globalPosition: 0n };
  for (;;) {
    const page = await database.store.readAll({ after, maxCount: 10_000, categories });
    if (page.events.length === 0) return positions;
    for (const event of page.events) positions.set(event.id, { transactionId: event.transactionId, globalPosition: event.globalPosition });
    after = page.lastPosition;
  }
}

function comparePositions(left: AllPosition | undefined, right: AllPosition | undefined): number {
  if (left === undefined || right === undefined) throw new Error('comparePositions: a position is missing');
  return compareAllPositions(left, right);
}
