// Proves MessageConsumer against a real Kafka and PostgreSQL: a published message reaches the handler
// and the inbox in one transaction; a message delivered twice has one effect; a failing handler is
// retried with its failed attempts rolled back; poison messages (not JSON, schema-invalid, always
// failing, permanently failing) land in the dead-letter topic with their original bytes and the
// reason while the partition goes on; an overrunning handler's work is undone; and a consumer that
// stops, or crashes after committing to the inbox, hands over to the next without loss or double effect.
// Then the chunks: a fetched batch is handled in one transaction per chunk, with repeats inside a
// chunk and across chunks skipped; a chunk whose transaction grows old is closed and the rest go on; a poison message in the middle of a chunk gets the per-message
// treatment while the others keep one effect each; a handler that swallows a failed statement gets
// no message counted as handled; and a consumer process killed with a chunk's transaction open loses
// nothing and doubles nothing once another takes over. With handlerConcurrency 'chunk', a chunk's
// handlers all start before any is awaited and commit together, and a failure in the middle is
// blamed on the first failed message.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { deadLetterTopicOf, MessageHeaders, type ContractEnvelope } from '@clearline/contracts';
import { createPool, migrate, type Pool } from '@clearline/postgres';
import { Registry } from 'prom-client';
import { createKafka } from './kafka-settings.js';
import { MessageConsumer, type MessageConsumerOptions, type MessageContext, type MessageHandler } from './message-consumer.js';
import { PermanentMessageError } from './message-errors.js';
import { DeadLetterHeaders, headerText } from './message-headers.js';
import { MessagePublisher } from './message-publisher.js';
import { MetricNames } from './messaging.metrics.js';
import { messagingMigrations } from './messaging.migrations.js';
import { readRecords, sendRaw, TEST_DATABASE_URL, testLogger, testSettings, uniqueSuffix, waitFor } from './messaging.test-kit.js';
import { riskAssessed } from './test-envelopes.js';
import { deleteTopics, ensureTopics } from './topic-admin.js';

const TEST_TIMEOUT_MS = 90_000;
const settings = testSettings('messaging-consumer-it');
const runSuffix = uniqueSuffix();
const effectsTable = `messaging_it_effects_${runSuffix}`;

let pool: Pool;
const createdTopics: string[] = [];
const groupIds: string[] = [];
const consumers: MessageConsumer[] = [];
const publishers: MessagePublisher[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  pool = createPool({ connectionString: TEST_DATABASE_URL, max: 12, applicationName: 'messaging-consumer-int-spec' });
  await migrate(pool, [messagingMigrations]);
  await pool.query(`create table ${effectsTable} (message_id uuid not null, attempt integer not null, consumer text not null)`);
});

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const consumer of consumers.splice(0)) await consumer.stop();
  for (const publisher of publishers.splice(0)) await publisher.disconnect();
});

afterAll(async () => {
  await deleteTopics(settings, createdTopics);
  const admin = createKafka(settings).admin();
  await admin.connect();
  await admin.deleteGroups(groupIds).catch(() => undefined);
  await admin.disconnect();
  await pool.query('delete from messaging.inbox where consumer_group = any($1)', [groupIds]);
  await pool.query(`drop table if exists ${effectsTable}`);
  await pool.end();
});

/** A fresh topic (and its dead-letter twin), group and registry, with a publisher to the topic. */
async function scenario(partitions = 1, { withDeadLetterTopic = true } = {}) {
  const topic = `it.messaging.${uniqueSuffix()}`;
  const deadLetterTopic = deadLetterTopicOf(topic);
  await ensureTopics(settings, withDeadLetterTopic ? [topic, deadLetterTopic] : [topic], { partitions });
  createdTopics.push(topic, deadLetterTopic);
  const groupId = `it-messaging-${runSuffix}-${uniqueSuffix()}`;
  groupIds.push(groupId);
  const registry = new Registry();
  const publisher = new MessagePublisher({ settings, producerName: 'it', metrics: registry, topicOverride: () => topic, logger: testLogger() });
  await publisher.connect();
  publishers.push(publisher);

  const consume = async (handle: MessageHandler, options: Partial<MessageConsumerOptions> = {}): Promise<MessageConsumer> => {
    const consumer = new MessageConsumer({
      settings,
      groupId,
      topics: [topic],
      pool,
      handle,
      metrics: registry,
      logger: testLogger(),
      backoff: { initialMs: 10, maxMs: 50 },
      ...options,
    });
    consumers.push(consumer);
    await consumer.start();
    return consumer;
  };

  const consumed = (outcome: 'handled' | 'duplicate' | 'dead_lettered') => metricValue(registry, MetricNames.consumed, { topic, group: groupId, outcome });
  const retries = () => metricValue(registry, MetricNames.handlerRetries, { topic, group: groupId });
  return { topic, deadLetterTopic, groupId, publisher, consume, consumed, retries };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const match = values.find((value) => Object.entries(labels).every(([label, wanted]) => String(value.labels[label]) === wanted));
  return match?.value ?? 0;
}

/** The handler's own write, through the transaction's client. */
async function recordEffect(envelope: ContractEnvelope, context: MessageContext, consumer = 'main'): Promise<void> {
  await context.client.query(`insert into ${effectsTable} (message_id, attempt, consumer) values ($1, $2, $3)`, [envelope.id, context.attempt, consumer]);
}

async function effects(ids: readonly string[]): Promise<{ message_id: string; attempt: number; consumer: string }[]> {
  const result = await pool.query(`select message_id, attempt, consumer from ${effectsTable} where message_id = any($1)`, [ids]);
  return result.rows;
}

async function effectCount(ids: readonly string[]): Promise<number> {
  return (await effects(ids)).length;
}

describe('MessageConsumer', () => {
  it(
    'hands a published message to the handler with its context and records it in the inbox, in one transaction',
    async () => {
      const { topic, groupId, publisher, consume, consumed } = await scenario(3);
      const envelopes = [riskAssessed(), riskAssessed(), riskAssessed()];
      const received: { envelope: ContractEnvelope; context: Omit<MessageContext, 'client' | 'logger' | 'afterCommit'> }[] = [];
      await consume(
        async (envelope, context) => {
          await recordEffect(envelope, context);
          const { client: _client, logger: _logger, afterCommit: _afterCommit, ...rest } = context;
          received.push({ envelope, context: rest });
        },
        { partitionsConsumedConcurrently: 3 },
      );
      await publisher.publish(envelopes);

      const ids = envelopes.map((envelope) => envelope.id);
      await waitFor('three effects', async () => (await effectCount(ids)) === 3);
      expect(received.map((entry) => entry.envelope).sort(byId)).toEqual([...envelopes].sort(byId));
      for (const { envelope, context } of received) {
        expect(context).toEqual({
          topic,
          partition: expect.any(Number),
          offset: expect.stringMatching(/^\d+$/),
          key: envelope.type === 'RiskAssessed' ? envelope.data.paymentId : null,
          attempt: 1,
        });
      }
      const inbox = await pool.query('select message_id, message_type, topic from messaging.inbox where consumer_group = $1', [groupId]);
      expect(inbox.rows.map((row) => row.message_id).sort()).toEqual([...ids].sort());
      expect(new Set(inbox.rows.map((row) => `${row.message_type} ${row.topic}`))).toEqual(new Set([`RiskAssessed ${topic}`]));
      expect(await consumed('handled')).toBe(3);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'gives a message delivered twice (same id) one effect and counts the second as a duplicate',
    async () => {
      const { publisher, consume, consumed } = await scenario();
      const twice = riskAssessed();
      const after = riskAssessed();
      await publisher.publish([twice]);
      await publisher.publish([twice]);
      await publisher.publish([after]);
      const calls: string[] = [];
      await consume(async (envelope, context) => {
        calls.push(envelope.id);
        await recordEffect(envelope, context);
      });

      await waitFor('the message after the duplicate', async () => (await effectCount([after.id])) === 1);
      expect(calls).toEqual([twice.id, after.id]);
      expect(await effectCount([twice.id])).toBe(1);
      expect(await consumed('duplicate')).toBe(1);
      expect(await consumed('handled')).toBe(2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'retries a handler that fails twice, rolls back the failed attempts and handles the message once',
    async () => {
      const { publisher, consume, consumed, retries } = await scenario();
      const envelope = riskAssessed();
      const attempts: number[] = [];
      await consume(async (received, context) => {
        attempts.push(context.attempt);
        await recordEffect(received, context);
        if (context.attempt < 3) throw new Error(`transient failure ${context.attempt}`);
      });
      await publisher.publish([envelope]);

      await waitFor('the third attempt', async () => (await consumed('handled')) === 1);
      expect(attempts).toEqual([1, 2, 3]);
      expect(await effects([envelope.id])).toEqual([{ message_id: envelope.id, attempt: 3, consumer: 'main' }]);
      expect(await retries()).toBe(2);
      expect(await consumed('dead_lettered')).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'dead-letters poison messages with their original bytes and the reason, and goes on with the partition',
    async () => {
      const { topic, deadLetterTopic, groupId, publisher, consume, consumed, retries } = await scenario();
      const notJson = '{"id": "not json';
      const schemaInvalid = JSON.stringify({ ...riskAssessed(), data: { paymentId: 'not-a-uuid', score: 500 } });
      const alwaysFails = riskAssessed();
      const permanent = riskAssessed();
      const good = riskAssessed();
      await sendRaw(settings, topic, [
        { key: 'key-not-json', value: notJson, headers: { 'x-trace': 'trace-1' } },
        { key: 'key-schema', value: schemaInvalid },
      ]);
      await publisher.publish([alwaysFails, permanent, good]);

      const handled: string[] = [];
      await consume(
        async (envelope, context) => {
          if (envelope.id === alwaysFails.id) throw new Error(`boom on attempt ${context.attempt}`);
          if (envelope.id === permanent.id) throw new PermanentMessageError('payment does not exist');
          handled.push(envelope.id);
          await recordEffect(envelope, context);
        },
        { maxAttempts: 3 },
      );

      await waitFor('the good message after the poison ones', async () => (await effectCount([good.id])) === 1);
      expect(handled).toEqual([good.id]);
      const deadLetters = (await readRecords(settings, deadLetterTopic, 4)).sort((a, b) => Number(a.offset) - Number(b.offset));
      expect(deadLetters.map((record) => headerText(record.headers, DeadLetterHeaders.originalOffset))).toEqual(['0', '1', '2', '3']);
      for (const record of deadLetters) {
        expect(headerText(record.headers, DeadLetterHeaders.originalTopic)).toBe(topic);
        expect(headerText(record.headers, DeadLetterHeaders.originalPartition)).toBe('0');
        expect(headerText(record.headers, DeadLetterHeaders.consumerGroup)).toBe(groupId);
        expect(new Date(headerText(record.headers, DeadLetterHeaders.failedAt) ?? '').getTime()).toBeGreaterThan(Date.now() - 120_000);
      }
      const [first, second, third, fourth] = deadLetters;
      expect(first?.value?.toString('utf8')).toBe(notJson);
      expect(first?.key).toBe('key-not-json');
      expect(headerText(first?.headers, 'x-trace')).toBe('trace-1');
      expect(headerText(first?.headers, DeadLetterHeaders.reason)).toMatch(/not JSON/);
      expect(headerText(first?.headers, DeadLetterHeaders.attempts)).toBe('0');

      expect(second?.value?.toString('utf8')).toBe(schemaInvalid);
      expect(headerText(second?.headers, DeadLetterHeaders.reason)).toMatch(/RiskAssessed: data/);
      expect(headerText(second?.headers, DeadLetterHeaders.attempts)).toBe('0');

      expect(JSON.parse(third?.value?.toString('utf8') ?? 'null')).toEqual(alwaysFails);
      expect(third?.key).toBe(alwaysFails.data.paymentId);
      expect(headerText(third?.headers, MessageHeaders.messageId)).toBe(alwaysFails.id);
      expect(headerText(third?.headers, DeadLetterHeaders.reason)).toBe('Error: boom on attempt 3');
      expect(headerText(third?.headers, DeadLetterHeaders.attempts)).toBe('3');

      expect(headerText(fourth?.headers, MessageHeaders.messageId)).toBe(permanent.id);
      expect(headerText(fourth?.headers, DeadLetterHeaders.reason)).toBe('PermanentMessageError: payment does not exist');
      expect(headerText(fourth?.headers, DeadLetterHeaders.attempts)).toBe('1');

      expect(await consumed('dead_lettered')).toBe(4);
      expect(await consumed('handled')).toBe(1);
      expect(await retries()).toBe(2);
      const inbox = await pool.query('select message_id from messaging.inbox where consumer_group = $1', [groupId]);
      expect(inbox.rows.map((row) => row.message_id)).toEqual([good.id]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'dead-letters a record above its size limit without copying the value (too large to copy), and goes on with the partition',
    async () => {
      const { topic, deadLetterTopic, publisher, consume } = await scenario();
      const huge = 'x'.repeat(4_096);
      await sendRaw(settings, topic, [{ key: 'key-huge', value: huge, headers: { 'x-trace': 'trace-huge' } }]);
      const good = riskAssessed();
      await publisher.publish([good]);
      await consume(async (envelope, context) => recordEffect(envelope, context), { maxMessageBytes: 1_024 });

      await waitFor('the message after the huge one', async () => (await effectCount([good.id])) === 1);
      const [deadLetter] = await readRecords(settings, deadLetterTopic, 1);
      expect(deadLetter?.value).toBeNull();
      expect(deadLetter?.key).toBe('key-huge');
      expect(headerText(deadLetter?.headers, 'x-trace')).toBe('trace-huge');
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.valueOmittedBytes)).toBe('4096');
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.reason)).toMatch(/4096 bytes|too large|1024/);
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.originalOffset)).toBe('0');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'keeps a message it cannot dead-letter (no dead-letter topic yet) uncommitted, and dead-letters it once it can',
    async () => {
      const { topic, deadLetterTopic, groupId, publisher, consume, consumed } = await scenario(1, { withDeadLetterTopic: false });
      await sendRaw(settings, topic, [{ key: 'poison', value: 'not json' }]);
      const after = riskAssessed();
      await publisher.publish([after]);
      await consume(async (envelope, context) => {
        await recordEffect(envelope, context);
      });

      // The dead-letter publish fails: the consumer must neither skip the poison message nor handle
      // the one after it (that would commit past the poison message and lose it).
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(await effectCount([after.id])).toBe(0);
      expect(await consumed('dead_lettered')).toBe(0);

      await ensureTopics(settings, [deadLetterTopic], { partitions: 1 });
      await waitFor('the message after the poison one', async () => (await effectCount([after.id])) === 1, 60_000);
      const [deadLetter] = await readRecords(settings, deadLetterTopic, 1);
      expect(deadLetter?.value?.toString('utf8')).toBe('not json');
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.consumerGroup)).toBe(groupId);
      expect(await consumed('dead_lettered')).toBeGreaterThanOrEqual(1);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'counts an overrunning handler attempt as failed, closes its connection so its writes are undone, and retries',
    async () => {
      const { publisher, consume, consumed, retries } = await scenario();
      const envelope = riskAssessed();
      let lateFailure: unknown;
      await consume(
        async (received, context) => {
          await recordEffect(received, context);
          if (context.attempt === 1) {
            await new Promise((resolve) => setTimeout(resolve, 1_500));
            // The connection was closed at the time limit: this write cannot land.
            await context.client.query('select 1').catch((error: unknown) => {
              lateFailure = error;
            });
          }
        },
        { handlerTimeoutMs: 300 },
      );
      await publisher.publish([envelope]);

      await waitFor('the second attempt', async () => (await consumed('handled')) === 1);
      await waitFor('the abandoned attempt to give up', () => lateFailure !== undefined);
      expect(await effects([envelope.id])).toEqual([{ message_id: envelope.id, attempt: 2, consumer: 'main' }]);
      expect(await retries()).toBe(1);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'hands over from a consumer stopped mid-stream to the next one in its group without loss or double effect',
    async () => {
      const { groupId, publisher, consume, consumed } = await scenario(3);
      const envelopes = Array.from({ length: 40 }, () => riskAssessed());
      const ids = envelopes.map((envelope) => envelope.id);
      await publisher.publish(envelopes);

      let handledByFirst = 0;
      const first = await consume(async (envelope, context) => {
        await recordEffect(envelope, context, 'first');
        await new Promise((resolve) => setTimeout(resolve, 20));
        handledByFirst += 1;
      });
      await waitFor('the first consumer to handle ten', async () => (await effectCount(ids)) >= 10);
      await first.stop();
      const afterStop = await effectCount(ids);
      expect(afterStop).toBe(handledByFirst);
      expect(afterStop).toBeLessThan(40);

      let handledBySecond = 0;
      await consume(async (envelope, context) => {
        await recordEffect(envelope, context, 'second');
        handledBySecond += 1;
      });
      await waitFor('all forty effects', async () => (await effectCount(ids)) >= 40);
      const rows = await effects(ids);
      expect(rows).toHaveLength(40);
      expect(new Set(rows.map((row) => row.message_id)).size).toBe(40);
      expect(handledByFirst + handledBySecond).toBe(40);
      // The graceful stop committed every offset it processed: nothing came back as a duplicate.
      expect(await consumed('duplicate')).toBe(0);
      const inbox = await pool.query('select count(*)::int as count from messaging.inbox where consumer_group = $1', [groupId]);
      expect(inbox.rows[0].count).toBe(40);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'skips messages a crashed consumer had handled but not committed, so their redelivery has no effect',
    async () => {
      const { topic, groupId, publisher, consume, consumed } = await scenario();
      const envelopes = Array.from({ length: 10 }, () => riskAssessed());
      await publisher.publish(envelopes);
      // What a consumer that crashed after five handler transactions, before committing any offset, leaves.
      const handledBeforeCrash = envelopes.slice(0, 5);
      for (const [offset, envelope] of handledBeforeCrash.entries()) {
        await pool.query(
          `insert into messaging.inbox (consumer_group, message_id, message_type, topic, partition, "offset") values ($1, $2, $3, $4, 0, $5)`,
          [groupId, envelope.id, envelope.type, topic, offset],
        );
      }

      const calls: string[] = [];
      await consume(async (envelope, context) => {
        calls.push(envelope.id);
        await recordEffect(envelope, context);
      });
      await waitFor('the five not yet handled', async () => (await consumed('handled')) === 5);
      expect(calls).toEqual(envelopes.slice(5).map((envelope) => envelope.id));
      expect(await consumed('duplicate')).toBe(5);
      expect(await effectCount(handledBeforeCrash.map((envelope) => envelope.id))).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});

/** The handler's own write, tagged with the id of the transaction it ran in. */
async function recordEffectInTransaction(envelope: ContractEnvelope, context: MessageContext): Promise<void> {
  await context.client.query(`insert into ${effectsTable} (message_id, attempt, consumer) values ($1, $2, txid_current()::text)`, [envelope.id, context.attempt]);
}

/** The transaction each message's effect committed in, by message id. */
async function transactionsOf(ids: readonly string[]): Promise<Map<string, string>> {
  const rows = await effects(ids);
  expect(rows).toHaveLength(new Set(rows.map((row) => row.message_id)).size);
  return new Map(rows.map((row) => [row.message_id, row.consumer]));
}

describe('MessageConsumer, one transaction per chunk of a batch', () => {
  it(
    'handles a fetched batch in one transaction, skipping a message repeated within it and messages repeated from an earlier one',
    async () => {
      const { groupId, publisher, consume, consumed } = await scenario();
      const first = Array.from({ length: 12 }, () => riskAssessed());
      // Offsets 0..13: first[3] comes again at offset 5, first[7] at offset 13.
      const firstBatch = [...first.slice(0, 5), first[3]!, ...first.slice(5), first[7]!];
      await publisher.publish(firstBatch);
      const calls: string[] = [];
      await consume(async (envelope, context) => {
        calls.push(envelope.id);
        await recordEffectInTransaction(envelope, context);
      });
      await waitFor('the first batch', async () => (await consumed('handled')) === 12);

      const second = Array.from({ length: 5 }, () => riskAssessed());
      await publisher.publish([first[0]!, ...second.slice(0, 3), first[11]!, second[1]!, ...second.slice(3)]);
      await waitFor('the second batch', async () => (await consumed('handled')) === 17);
      // A message after the second batch, so a late double effect of it would have had time to show.
      const last = riskAssessed();
      await publisher.publish([last]);
      await waitFor('the last message', async () => (await consumed('handled')) === 18);

      expect(calls).toEqual([...first, ...second, last].map((envelope) => envelope.id));
      const firstTransactions = await transactionsOf(first.map((envelope) => envelope.id));
      const secondTransactions = await transactionsOf(second.map((envelope) => envelope.id));
      expect(firstTransactions.size).toBe(12);
      expect(secondTransactions.size).toBe(5);
      expect(new Set(firstTransactions.values()).size).toBe(1);
      expect(new Set(secondTransactions.values()).size).toBe(1);
      expect(secondTransactions.get(second[0]!.id)).not.toBe(firstTransactions.get(first[0]!.id));
      expect(await consumed('duplicate')).toBe(2 + 3);
      // The first delivery of a repeated message is the one the inbox recorded.
      const inbox = await pool.query<{ message_id: string; offset: string }>('select message_id, "offset" from messaging.inbox where consumer_group = $1', [groupId]);
      expect(inbox.rows).toHaveLength(18);
      const inboxOffsets = new Map(inbox.rows.map((row) => [row.message_id, String(row.offset)]));
      expect(inboxOffsets.get(first[3]!.id)).toBe('3');
      expect(inboxOffsets.get(first[7]!.id)).toBe('8');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'gives a poison message in the middle of a chunk the per-message retries and dead letter, and every other message of the chunk one effect',
    async () => {
      const { topic, deadLetterTopic, groupId, publisher, consume, consumed, retries } = await scenario();
      const before = [riskAssessed(), riskAssessed(), riskAssessed()];
      const poison = riskAssessed();
      const after = [riskAssessed(), riskAssessed(), riskAssessed()];
      await publisher.publish([...before, poison, ...after]);
      const poisonAttempts: number[] = [];
      const calls: string[] = [];
      await consume(
        async (envelope, context) => {
          calls.push(envelope.id);
          if (envelope.id === poison.id) {
            poisonAttempts.push(context.attempt);
            // Its write must be undone with the attempt.
            await recordEffectInTransaction(envelope, context);
            throw new Error(`poison on attempt ${context.attempt}`);
          }
          await recordEffectInTransaction(envelope, context);
        },
        { maxAttempts: 3 },
      );

      await waitFor('the poison message dead-lettered', async () => (await consumed('dead_lettered')) === 1);
      await waitFor('the messages after it', async () => (await consumed('handled')) === 6);
      expect(poisonAttempts).toEqual([1, 2, 3]);
      expect(await retries()).toBe(2);
      expect(await effects([poison.id])).toEqual([]);
      const beforeTransactions = await transactionsOf(before.map((envelope) => envelope.id));
      const afterTransactions = await transactionsOf(after.map((envelope) => envelope.id));
      // Rolled back with the poison's first attempt, the ones before it were handled again one per
      // transaction; the ones after it, in a chunk again.
      expect(beforeTransactions.size).toBe(3);
      expect(new Set(beforeTransactions.values()).size).toBe(3);
      expect(afterTransactions.size).toBe(3);
      expect(new Set(afterTransactions.values()).size).toBe(1);
      expect(calls.filter((id) => id === before[0]!.id)).toHaveLength(2);
      expect(calls.filter((id) => id === after[0]!.id)).toHaveLength(1);

      const [deadLetter, ...more] = await readRecords(settings, deadLetterTopic, 1);
      expect(more).toEqual([]);
      expect(JSON.parse(deadLetter?.value?.toString('utf8') ?? 'null')).toEqual(poison);
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.reason)).toBe('Error: poison on attempt 3');
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.attempts)).toBe('3');
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.originalTopic)).toBe(topic);
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.originalOffset)).toBe('3');
      expect(await consumed('duplicate')).toBe(0);
      const inbox = await pool.query<{ message_id: string }>('select message_id from messaging.inbox where consumer_group = $1', [groupId]);
      expect(inbox.rows.map((row) => row.message_id).sort()).toEqual([...before, ...after].map((envelope) => envelope.id).sort());
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'closes a chunk whose transaction is maxTransactionMs old, committing what it handled, and goes on with the rest in the next',
    async () => {
      const { groupId, publisher, consume, consumed } = await scenario();
      const envelopes = Array.from({ length: 8 }, () => riskAssessed());
      const ids = envelopes.map((envelope) => envelope.id);
      await publisher.publish(envelopes);
      await consume(
        async (envelope, context) => {
          await recordEffectInTransaction(envelope, context);
          await new Promise((resolve) => setTimeout(resolve, 60));
        },
        { maxTransactionMs: 100 },
      );

      await waitFor('all eight', async () => (await consumed('handled')) === 8);
      const transactions = await transactionsOf(ids);
      expect(transactions.size).toBe(8);
      // Two handlers of 60 ms pass the 100 ms: no transaction can hold a third.
      const perTransaction = new Map<string, number>();
      for (const transaction of transactions.values()) perTransaction.set(transaction, (perTransaction.get(transaction) ?? 0) + 1);
      expect(perTransaction.size).toBeGreaterThanOrEqual(4);
      expect(Math.max(...perTransaction.values())).toBeLessThanOrEqual(2);
      expect(await consumed('duplicate')).toBe(0);
      const inbox = await pool.query('select count(*)::int as count from messaging.inbox where consumer_group = $1', [groupId]);
      expect(inbox.rows[0].count).toBe(8);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'counts nothing as handled of a transaction a handler aborted by catching a failed statement, and dead-letters that message',
    async () => {
      const { deadLetterTopic, groupId, publisher, consume, consumed, retries } = await scenario();
      const good = [riskAssessed(), riskAssessed()];
      const swallowing = riskAssessed();
      await publisher.publish([good[0]!, swallowing, good[1]!]);
      await consume(
        async (envelope, context) => {
          await recordEffect(envelope, context);
          // PostgreSQL aborts the transaction; its COMMIT then answers ROLLBACK, without an error.
          if (envelope.id === swallowing.id) await context.client.query('select 1 / 0').catch(() => undefined);
        },
        { maxAttempts: 2 },
      );

      await waitFor('the swallowing message dead-lettered', async () => (await consumed('dead_lettered')) === 1);
      await waitFor('the good messages', async () => (await consumed('handled')) === 2);
      expect(await effectCount([swallowing.id])).toBe(0);
      const goodEffects = await effects(good.map((envelope) => envelope.id));
      expect(goodEffects.map((row) => row.message_id).sort()).toEqual(good.map((envelope) => envelope.id).sort());
      expect(await retries()).toBe(1);
      const [deadLetter] = await readRecords(settings, deadLetterTopic, 1);
      expect(headerText(deadLetter?.headers, MessageHeaders.messageId)).toBe(swallowing.id);
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.reason)).toMatch(/^TransactionAbortedError: /);
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.attempts)).toBe('2');
      const inbox = await pool.query<{ message_id: string }>('select message_id from messaging.inbox where consumer_group = $1', [groupId]);
      expect(inbox.rows.map((row) => row.message_id).sort()).toEqual(good.map((envelope) => envelope.id).sort());
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'loses nothing and doubles nothing when a consumer process is killed with a chunk half handled',
    async () => {
      const { topic, groupId, publisher, consume, consumed } = await scenario();
      const envelopes = Array.from({ length: 40 }, () => riskAssessed());
      const ids = envelopes.map((envelope) => envelope.id);
      await publisher.publish(envelopes);

      // Chunks of 10: the first commits, the second hangs in its fifth handler, transaction open.
      const applicationName = `messaging-it-killed-${uniqueSuffix()}`;
      const child = spawn(process.execPath, [fileURLToPath(new URL('./consumer-process.test-fixture.mjs', import.meta.url))], {
        env: {
          ...process.env,
          DATABASE_URL: TEST_DATABASE_URL,
          CHILD_TOPIC: topic,
          CHILD_GROUP: groupId,
          CHILD_EFFECTS_TABLE: effectsTable,
          CHILD_APPLICATION_NAME: applicationName,
          CHILD_HANG_AT: '15',
          CHILD_MESSAGES_PER_TRANSACTION: '10',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      const stderr: string[] = [];
      child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
      const hangingAt = await lineStartingWith(child, 'hanging at ', 60_000, stderr);
      expect(hangingAt).toBe(ids[14]);
      const openTransactions = await pool.query(`select count(*)::int as count from pg_stat_activity where application_name = $1 and state = 'idle in transaction'`, [applicationName]);
      expect(openTransactions.rows[0].count).toBe(1);

      child.kill('SIGKILL');
      await once(child, 'exit');
      await waitFor('the killed process\u2019s sessions to end', async () => {
        const sessions = await pool.query('select count(*)::int as count from pg_stat_activity where application_name = $1', [applicationName]);
        return sessions.rows[0].count === 0;
      });
      // The first chunk committed; of the second, nothing did.
      const atDeath = await effects(ids);
      expect(atDeath.map((row) => row.message_id).sort()).toEqual(ids.slice(0, 10).sort());
      const committedOffset = await committedOffsetOf(groupId, topic);
      expect(['-1', '10']).toContain(committedOffset);

      await consume(async (envelope, context) => {
        await recordEffect(envelope, context, 'successor');
      });
      await waitFor('all forty effects', async () => (await effectCount(ids)) >= 40, 60_000);
      // Time for a double effect to show, were there one.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const rows = await effects(ids);
      expect(rows).toHaveLength(40);
      expect(new Set(rows.map((row) => row.message_id)).size).toBe(40);
      expect(rows.filter((row) => row.consumer === 'killed').map((row) => row.message_id).sort()).toEqual(ids.slice(0, 10).sort());
      expect(rows.filter((row) => row.consumer === 'successor').map((row) => row.message_id).sort()).toEqual(ids.slice(10).sort());
      expect(await consumed('handled')).toBe(30);
      // What the killed consumer had handled but not committed to Kafka comes back, and is skipped.
      expect(await consumed('duplicate')).toBe(committedOffset === '10' ? 0 : 10);
      const inbox = await pool.query('select count(*)::int as count from messaging.inbox where consumer_group = $1', [groupId]);
      expect(inbox.rows[0].count).toBe(40);
    },
    TEST_TIMEOUT_MS,
  );
});

describe("MessageConsumer with handlerConcurrency 'chunk'", () => {
  it(
    'starts every handler of a chunk before any finishes, in offset order, and commits them in one transaction',
    async () => {
      const { publisher, consume, consumed } = await scenario();
      const envelopes = Array.from({ length: 10 }, () => riskAssessed());
      await publisher.publish(envelopes);
      const started: string[] = [];
      let releaseAll: () => void = () => undefined;
      const allStarted = new Promise<void>((resolve) => {
        releaseAll = resolve;
      });
      await consume(
        async (envelope, context) => {
          started.push(envelope.id);
          if (started.length === envelopes.length) releaseAll();
          // Each handler waits until all ten have started: sequential handlers would never get there.
          await Promise.race([allStarted, new Promise((_, reject) => setTimeout(() => reject(new Error('not started together')), 5_000))]);
          await recordEffectInTransaction(envelope, context);
        },
        { handlerConcurrency: 'chunk', maxAttempts: 1 },
      );

      await waitFor('all ten', async () => (await consumed('handled')) === 10);
      expect(started).toEqual(envelopes.map((envelope) => envelope.id));
      const transactions = await transactionsOf(envelopes.map((envelope) => envelope.id));
      expect(transactions.size).toBe(10);
      expect(new Set(transactions.values()).size).toBe(1);
      expect(await consumed('dead_lettered')).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'blames the first failed message of a chunk: those before it are handled again one per transaction, it is dead-lettered, those after it keep one effect each',
    async () => {
      const { deadLetterTopic, groupId, publisher, consume, consumed, retries } = await scenario();
      const before = [riskAssessed(), riskAssessed()];
      const poison = riskAssessed();
      const after = [riskAssessed(), riskAssessed(), riskAssessed()];
      await publisher.publish([...before, poison, ...after]);
      const calls: string[] = [];
      await consume(
        async (envelope, context) => {
          calls.push(envelope.id);
          await recordEffectInTransaction(envelope, context);
          if (envelope.id === poison.id) throw new PermanentMessageError('refused by the test');
        },
        { handlerConcurrency: 'chunk' },
      );

      await waitFor('the poison message dead-lettered', async () => (await consumed('dead_lettered')) === 1);
      await waitFor('the others', async () => (await consumed('handled')) === 5);
      expect(await retries()).toBe(0);
      expect(await effects([poison.id])).toEqual([]);
      const beforeTransactions = await transactionsOf(before.map((envelope) => envelope.id));
      const afterTransactions = await transactionsOf(after.map((envelope) => envelope.id));
      expect(new Set(beforeTransactions.values()).size).toBe(2);
      expect(afterTransactions.size).toBe(3);
      // The first chunk started all six; the ones after the poison ran again in a chunk of their own.
      expect(calls.filter((id) => id === before[0]!.id)).toHaveLength(2);
      expect(calls.filter((id) => id === poison.id)).toHaveLength(1);
      expect(calls.filter((id) => id === after[0]!.id)).toHaveLength(2);
      const [deadLetter] = await readRecords(settings, deadLetterTopic, 1);
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.reason)).toContain('refused by the test');
      const inbox = await pool.query<{ message_id: string }>('select message_id from messaging.inbox where consumer_group = $1', [groupId]);
      expect(inbox.rows.map((row) => row.message_id).sort()).toEqual([...before, ...after].map((envelope) => envelope.id).sort());
    },
    TEST_TIMEOUT_MS,
  );
});

/** The rest of the first stdout line of `child` that starts with `prefix`. */
async function lineStartingWith(child: ChildProcess, prefix: string, timeoutMs: number, stderr: string[]): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no '${prefix}' line within ${timeoutMs} ms; stderr: ${stderr.join('')}`)), timeoutMs);
      lines.on('line', (line) => {
        if (line.startsWith(prefix)) resolve(line.slice(prefix.length));
      });
      child.once('exit', (code, signal) => reject(new Error(`the consumer process exited (${code ?? signal}) first; stderr: ${stderr.join('')}`)));
    });
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}

/** The group's committed offset of partition 0, '-1' when there is none. */
async function committedOffsetOf(groupId: string, topic: string): Promise<string> {
  const admin = createKafka(settings).admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return offsets?.partitions.find((entry) => entry.partition === 0)?.offset ?? '-1';
  } finally {
    await admin.disconnect();
  }
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id.localeCompare(b.id);
}
