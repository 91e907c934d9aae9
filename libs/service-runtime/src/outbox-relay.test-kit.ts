// Helpers for the outbox relay's integration tests: an event store schema of the file's own, unique
// Kafka topics, contract-valid payment events, a publisher whose calls a test can script (fail, hang,
// record), and a reader that returns everything a set of topics holds, in partition order.
import { randomUUID } from 'node:crypto';
import { contractFor, deadLetterTopicOf, MessageHeaders, type MessageEnvelope } from '@clearline/contracts';
import { eventStoreMigrations, PostgresEventStore, type AllPosition, type NewEvent } from '@clearline/event-store';
import {
  createKafka,
  deleteTopics,
  ensureTopics,
  headerText,
  kafkaSettingsFromEnv,
  MessagePublisher,
  type KafkaSettings,
  type PublishOptions,
  type PublishReceipt,
} from '@clearline/messaging';
import { createPool, migrate, quoteIdentifier, type Pool } from '@clearline/postgres';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';

export const TEST_DATABASE_URL = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/clearline_test';

export function uniqueSuffix(): string {
  return randomUUID().replaceAll('-', '').slice(0, 12);
}

/** Silent, unless OUTBOX_RELAY_TEST_LOG names a pino level (e.g. debug) to watch a test run. */
export function testLogger(): Logger {
  return pino({ level: process.env['OUTBOX_RELAY_TEST_LOG'] ?? 'silent' }, pino.destination(2));
}

export function testKafkaSettings(clientId: string): KafkaSettings {
  return { ...kafkaSettingsFromEnv(clientId), logLevel: process.env['OUTBOX_RELAY_TEST_LOG'] === 'debug' ? 'debug' : 'error' };
}

export async function waitFor(description: string, condition: () => Promise<boolean> | boolean, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL

export interface RelayTestDatabase {
  pool: Pool;
  schema: string;
  store: PostgresEventStore;
  /** A pool of its own, as another process would have; named so a test can find (and kill) its sessions. */
  separatePool: (applicationName: string, max?: number) => Pool;
  /** The relay's stored checkpoint (undefined before the relay first led). */
  checkpointOf: (relayName: string) => Promise<AllPosition | undefined>;
  /** The last position among `categories` in $all: where a relay that published them all stands. */
  lastPositionOf: (categories: string[]) => Promise<AllPosition>;
  /** Ends the sessions of a pool (pg_terminate_backend), as the death of its process would. */
  terminateSessions: (applicationName: string, filter?: string) => Promise<number>;
  dispose: () => Promise<void>;
}

export async function createRelayTestDatabase(applicationName: string): Promise<RelayTestDatabase> {
  const pool = createPool({ connectionString: TEST_DATABASE_URL, max: 12, applicationName, onIdleClientError: () => undefined });
  const schema = `outbox_relay_test_${uniqueSuffix()}`;
  const migrations = eventStoreMigrations({ schema });
  await migrate(pool, [migrations]);
  const checkpoints = `${quoteIdentifier(schema)}.subscription_checkpoints`;
  const store = new PostgresEventStore(pool, { schema });
  const pools: Pool[] = [];
  return {
    pool,
    schema,
    store,
    separatePool: (name, max = 6) => {
      // An idle connection killed with its "process" must not crash the test run.
      const separate = createPool({ connectionString: TEST_DATABASE_URL, max, applicationName: name, onIdleClientError: () => undefined });
      pools.push(separate);
      return separate;
    },
    checkpointOf: async (relayName) => {
      const { rows } = await pool.query<{ transaction_id: string; global_position: string }>(
        `select transaction_id::text, global_position::text from ${checkpoints} where subscription_id = $1`,
        [`outbox-relay:${relayName}`],
      );
      const row = rows[0];
      return row === undefined ? undefined : { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) };
    },
    lastPositionOf: async (categories) => {
      // The last committed event, read from the table itself: a readAll stops at its snapshot's horizon,
      // which any transaction anywhere on the server (another test's, another database's) holds back,
      // and a wait for a checkpoint short of the real end would let a test look too early.
      const { rows } = await pool.query<{ transaction_id: string; global_position: string }>(
        // ORDER BY names the table's columns (m.), not the text ones selected, or 9 would sort after 10.
        `select transaction_id::text, global_position::text from ${quoteIdentifier(schema)}.messages m
          where category = any($1) order by m.transaction_id desc, m.global_position desc limit 1`,
        [categories],
      );
      const row = rows[0];
      return row === undefined ? { transactionId: 0n, globalPosition: 0n } : { transactionId: BigInt(row.transaction_id), globalPosition: BigInt(row.global_position) };
    },
    terminateSessions: async (name, filter = 'true') => {
      const { rows } = await pool.query<{ terminated: boolean }>(
        `select pg_terminate_backend(pid) as terminated from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid() and (${filter})`,
        [name],
      );
      return rows.filter((row) => row.terminated).length;
    },
    dispose: async () => {
      // Pools of "dead" relays may hold connections that never come back; do not wait for them.
      for (const separate of pools) void separate.end().catch(() => undefined);
      await pool.query(`drop schema if exists ${quoteIdentifier(schema)} cascade`);
      await pool.query('delete from public.schema_migrations where owner = $1', [migrations.owner]);
      await pool.end();
    },
  };
}

/** The sessions of `applicationName` holding the advisory lock a relay leads with. */
export async function advisoryLockHolders(pool: Pool, applicationName: string): Promise<number> {
  const { rows } = await pool.query<{ holders: string }>(
    `select count(*)::text as holders from pg_locks l join pg_stat_activity a on a.pid = l.pid
     where l.locktype = 'advisory' and l.granted and a.application_name = $1`,
    [applicationName],
  );
  return Number(rows[0]?.holders ?? 0);
}

// ---------------------------------------------------------------------------------------------------
// Events

/** The categories one test writes: two its relay owns, one it must leave alone. */
export interface TestCategories {
  payment: string;
  risk: string;
  foreign: string;
}

export function freshCategories(): TestCategories {
  const suffix = uniqueSuffix();
  return { payment: `payment${suffix}`, risk: `risk${suffix}`, foreign: `ledger${suffix}` };
}

/** What a scenario appended: per stream, the contract messages in stream order, and what must stay inside. */
export interface AppendedEvents {
  /** Stream id -> ids of its contract events, in stream order: what the relay must publish. */
  published: Map<string, string[]>;
  /** Internal (non-contract) event ids in owned categories. */
  internal: string[];
  /** Contract events in a category the relay does not own. */
  foreign: string[];
}

export function emptyAppended(): AppendedEvents {
  return { published: new Map(), internal: [], foreign: [] };
}

export function publishedIds(appended: AppendedEvents): string[] {
  return [...appended.published.values()].flat();
}

function metadata(correlationId: string, causationId: string, producer: string): Record<string, unknown> {
  return { correlationId, causationId, occurredAt: new Date().toISOString(), producer };
}

function event(type: string, data: unknown, correlationId: string, producer = 'payments'): NewEvent {
  return { id: randomUUID(), type, data, metadata: metadata(correlationId, randomUUID(), producer) };
}

/** One payment's life: its stream's events, one per round, with an internal event among them. */
function paymentRound(round: number, paymentId: string, holdId: string, correlationId: string): NewEvent {
  const amount = { amountMinor: '1250', currency: 'EUR' };
  switch (round) {
    case 0:
      return event(
        'PaymentRequested',
        {
          paymentId,
          channel: 'card_acquiring',
          merchantId: 'merchant-1',
          merchantAccountId: 'merchant-1-settlement',
          payerAccountId: 'payer-1',
          amount,
          method: 'card',
          requestedAt: new Date().toISOString(),
        },
        correlationId,
      );
    case 1:
      return event('AccountDebited', { accountId: 'payer-1', amountMinor: '1250' }, correlationId);
    case 2:
      return event('PaymentAuthorizationStarted', { paymentId, holdId, riskScore: 12 }, correlationId);
    case 3:
      return event('PaymentAuthorized', { paymentId, holdId, amount }, correlationId);
    default:
      return event('PaymentCaptured', { paymentId, holdId, amount }, correlationId);
  }
}

export const ROUNDS_PER_PAYMENT = 5;

/**
 * Appends `payments` payments round by round (so streams interleave in $all): per payment a
 * `payment-` stream of 5 events (4 contract, 1 internal), a `risk-` stream with RiskAssessed
 * (appended atomically with the payment's first event), and a contract event in the foreign category.
 */
export async function appendPayments(store: PostgresEventStore, categories: TestCategories, payments: number, into: AppendedEvents = emptyAppended()): Promise<AppendedEvents> {
  const ids = Array.from({ length: payments }, () => ({ paymentId: randomUUID(), holdId: randomUUID(), correlationId: randomUUID() }));
  for (let round = 0; round < ROUNDS_PER_PAYMENT; round += 1) {
    for (const { paymentId, holdId, correlationId } of ids) {
      const paymentStream = `${categories.payment}-${paymentId}`;
      const paymentEvent = paymentRound(round, paymentId, holdId, correlationId);
      record(into, paymentStream, paymentEvent);
      if (round !== 0) {
        await store.appendToStream(paymentStream, [paymentEvent]);
        continue;
      }
      const riskStream = `${categories.risk}-${paymentId}`;
      const riskEvent = event('RiskAssessed', { paymentId, payerAccountId: 'payer-1', score: 12, decision: 'approve', reasons: [], ruleSetVersion: 'v1' }, correlationId, 'risk');
      const foreignEvent = paymentRound(0, paymentId, holdId, correlationId);
      record(into, riskStream, riskEvent);
      into.foreign.push(foreignEvent.id);
      await store.appendToStreams([
        { streamId: paymentStream, events: [paymentEvent] },
        { streamId: riskStream, events: [riskEvent] },
        { streamId: `${categories.foreign}-${paymentId}`, events: [foreignEvent] },
      ]);
    }
  }
  return into;
}

function record(into: AppendedEvents, streamId: string, appended: NewEvent): void {
  if (appended.type === 'AccountDebited') {
    into.internal.push(appended.id);
    return;
  }
  const ids = into.published.get(streamId) ?? [];
  ids.push(appended.id);
  into.published.set(streamId, ids);
}

// ---------------------------------------------------------------------------------------------------
// Kafka

/** Topics of one test: each contract topic gets a unique twin, so tests never read each other. */
export class TestTopics {
  private readonly prefix = `it.outbox-relay.${uniqueSuffix()}`;

  constructor(private readonly settings: KafkaSettings) {}

  readonly topicOf = (envelope: Pick<MessageEnvelope, 'type'>): string => `${this.prefix}.${contractFor(envelope.type).topic}`;

  get payments(): string {
    return this.topicOf({ type: 'PaymentRequested' });
  }

  get risk(): string {
    return this.topicOf({ type: 'RiskAssessed' });
  }

  /** Where the relay sends payment events that break their contract. Created on demand (createDeadLetter). */
  get paymentsDeadLetter(): string {
    return deadLetterTopicOf(this.payments);
  }

  async create(topics: string[] = [this.payments, this.risk]): Promise<void> {
    await ensureTopics(this.settings, topics, { partitions: 3 });
  }

  async createDeadLetter(): Promise<void> {
    await ensureTopics(this.settings, [this.paymentsDeadLetter], { partitions: 1 });
  }

  async delete(): Promise<void> {
    await deleteTopics(this.settings, [this.payments, this.risk, this.paymentsDeadLetter]);
  }
}

export interface PublishedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: string | null;
  messageId: string | undefined;
  headers: Record<string, string | undefined>;
  /** Every header as text, the dead-letter ones (dlq-*) included. */
  allHeaders: Record<string, string | undefined>;
  envelope: MessageEnvelope;
}

/** Everything the topics hold now, read from the beginning up to each partition's end, in partition order. */
export async function readTopics(settings: KafkaSettings, topics: string[], timeoutMs = 30_000): Promise<PublishedRecord[]> {
  const kafka = createKafka(settings);
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, bigint>();
  try {
    for (const topic of topics) {
      for (const partition of await admin.fetchTopicOffsets(topic)) ends.set(`${topic}/${partition.partition}`, BigInt(partition.high));
    }
  } finally {
    await admin.disconnect();
  }
  const records: PublishedRecord[] = [];
  const remaining = new Set([...ends].filter(([, end]) => end > 0n).map(([partition]) => partition));
  if (remaining.size === 0) return records;
  const groupId = `outbox-relay-reader-${uniqueSuffix()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const offset = BigInt(message.offset);
        const partitionKey = `${topic}/${partition}`;
        if (offset >= (ends.get(partitionKey) ?? 0n)) return;
        const headers = Object.fromEntries(Object.values(MessageHeaders).map((name) => [name, headerText(message.headers, name)]));
        records.push({
          topic,
          partition,
          offset,
          key: message.key === null ? null : message.key.toString('utf8'),
          messageId: headers[MessageHeaders.messageId],
          headers,
          allHeaders: Object.fromEntries(Object.keys(message.headers ?? {}).map((name) => [name, headerText(message.headers, name)])),
          envelope: JSON.parse(message.value?.toString('utf8') ?? 'null') as MessageEnvelope,
        });
        if (offset + 1n >= (ends.get(partitionKey) ?? 0n)) remaining.delete(partitionKey);
      },
    });
    await waitFor(`the records of ${topics.join(', ')}`, () => remaining.size === 0, timeoutMs);
  } finally {
    await consumer.disconnect();
    await deleteGroup(settings, groupId);
  }
  // Partition order is what Kafka guarantees; keep it explicit for the per-key checks.
  return records.sort((left, right) => left.topic.localeCompare(right.topic) || left.partition - right.partition || Number(left.offset - right.offset));
}

async function deleteGroup(settings: KafkaSettings, groupId: string): Promise<void> {
  const admin = createKafka(settings).admin();
  await admin.connect();
  try {
    await admin.deleteGroups([groupId]);
  } catch {
    // A group the broker still considers active is removed with the topics' retention anyway.
  } finally {
    await admin.disconnect();
  }
}

/** Per key, the message ids in the order a consumer of the key's partition receives them. */
export function idsByKey(records: readonly PublishedRecord[]): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const record of records) {
    const ids = byKey.get(record.key ?? '') ?? [];
    ids.push(record.messageId ?? '');
    byKey.set(record.key ?? '', ids);
  }
  return byKey;
}

/** What a consumer that de-duplicates by message id (the inbox) sees per key. */
export function firstOccurrences(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

export function countById(records: readonly PublishedRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of records) counts.set(record.messageId ?? '', (counts.get(record.messageId ?? '') ?? 0) + 1);
  return counts;
}

// ---------------------------------------------------------------------------------------------------
// A publisher a test can script

export interface PublishCall {
  index: number;
  envelopeIds: string[];
  startedAt: number;
  endedAt: number | undefined;
  outcome: 'pending' | 'published' | 'failed';
}

export interface PublisherScript {
  /** Runs before the real publish; throwing fails the call with nothing sent. */
  before?: (call: PublishCall) => Promise<void> | void;
  /** Runs after the broker acknowledged; throwing (or hanging) happens between the ack and the checkpoint. */
  after?: (call: PublishCall) => Promise<void> | void;
}

/** The real MessagePublisher, with hooks around each call and a record of every call. */
export class ScriptedPublisher extends MessagePublisher {
  readonly calls: PublishCall[] = [];

  constructor(
    settings: KafkaSettings,
    topics: TestTopics,
    private readonly script: PublisherScript = {},
  ) {
    super({ settings, producerName: `outbox-relay-it-${uniqueSuffix()}`, metrics: new Registry(), topicOverride: topics.topicOf, logger: testLogger() });
  }

  override async publish(envelopes: readonly MessageEnvelope[], options?: PublishOptions): Promise<PublishReceipt[]> {
    const call: PublishCall = { index: this.calls.length, envelopeIds: envelopes.map((envelope) => envelope.id), startedAt: Date.now(), endedAt: undefined, outcome: 'pending' };
    this.calls.push(call);
    try {
      await this.script.before?.(call);
      const receipts = await super.publish(envelopes, options);
      await this.script.after?.(call);
      call.outcome = 'published';
      return receipts;
    } catch (error) {
      call.outcome = 'failed';
      throw error;
    } finally {
      call.endedAt = Date.now();
    }
  }

  publishedIds(): string[] {
    return this.calls.filter((call) => call.outcome === 'published').flatMap((call) => call.envelopeIds);
  }
}
