// Proves MessagePublisher against a real Kafka: each message lands on its topic with the contract's
// key, the whole envelope as JSON and the standard headers; a custom key wins; an invalid message
// fails the call before anything is sent, or, when the caller asks, goes to the dead-letter topic
// with the reason while the rest is published; and ensureTopics is idempotent.
import { randomUUID } from 'node:crypto';
import { ContractViolationError, deadLetterTopicOf, MessageHeaders, type MessageEnvelope } from '@clearline/contracts';
import { Registry } from 'prom-client';
import { MessagePublisher } from './message-publisher.js';
import { DeadLetterHeaders, headerText } from './message-headers.js';
import { MetricNames } from './messaging.metrics.js';
import { readRecords, testLogger, testSettings, uniqueSuffix } from './messaging.test-kit.js';
import { riskAssessed } from './test-envelopes.js';
import { deleteTopics, ensureTopics } from './topic-admin.js';
import { createKafka } from './kafka-settings.js';

const TEST_TIMEOUT_MS = 60_000;
const settings = testSettings('messaging-publisher-it');
const createdTopics: string[] = [];
const publishers: MessagePublisher[] = [];

afterEach(async () => {
  for (const publisher of publishers.splice(0)) await publisher.disconnect();
});

afterAll(async () => {
  await deleteTopics(settings, createdTopics);
});

async function freshTopic(partitions = 3): Promise<string> {
  const topic = `it.publisher.${uniqueSuffix()}`;
  await ensureTopics(settings, [topic], { partitions });
  createdTopics.push(topic);
  return topic;
}

async function connectedPublisher(topic: string, registry = new Registry()): Promise<MessagePublisher> {
  const publisher = new MessagePublisher({ settings, producerName: 'it', metrics: registry, topicOverride: () => topic, logger: testLogger() });
  await publisher.connect();
  publishers.push(publisher);
  return publisher;
}

async function endOffsets(topic: string): Promise<number> {
  const admin = createKafka(settings).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('MessagePublisher', () => {
  it(
    'publishes each envelope as JSON with the contract key and the standard headers, once acknowledged',
    async () => {
      const topic = await freshTopic();
      const registry = new Registry();
      const publisher = await connectedPublisher(topic, registry);
      const envelopes = [riskAssessed(), riskAssessed(), riskAssessed()];

      const receipts = await publisher.publish(envelopes);
      expect(receipts.every((receipt) => receipt.topic === topic && receipt.baseOffset !== '-1')).toBe(true);

      const records = await readRecords(settings, topic, 3);
      expect(records).toHaveLength(3);
      for (const envelope of envelopes) {
        const record = records.find((candidate) => headerText(candidate.headers, MessageHeaders.messageId) === envelope.id);
        expect(record).toBeDefined();
        expect(JSON.parse(record?.value?.toString('utf8') ?? 'null')).toEqual(envelope);
        expect(record?.key).toBe(envelope.data.paymentId);
        expect(Object.fromEntries(Object.values(MessageHeaders).map((name) => [name, headerText(record?.headers, name)]))).toEqual({
          [MessageHeaders.messageId]: envelope.id,
          [MessageHeaders.messageType]: 'RiskAssessed',
          [MessageHeaders.schemaVersion]: '1',
          [MessageHeaders.correlationId]: envelope.metadata.correlationId,
          [MessageHeaders.causationId]: envelope.metadata.causationId,
          [MessageHeaders.producer]: 'test',
          [MessageHeaders.contentType]: 'application/json',
        });
      }
      const published = await registry.getSingleMetric(MetricNames.published)?.get();
      expect(published?.values).toEqual([{ labels: { topic }, value: 3 }]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'keys by the given function, keeping one key in one partition and in order',
    async () => {
      const topic = await freshTopic();
      const publisher = await connectedPublisher(topic);
      const envelopes = Array.from({ length: 6 }, () => riskAssessed());
      await publisher.publish(envelopes, { key: () => 'stream-payment-1' });
      const records = await readRecords(settings, topic, 6);
      expect(new Set(records.map((record) => record.key))).toEqual(new Set(['stream-payment-1']));
      expect(new Set(records.map((record) => record.partition)).size).toBe(1);
      const inOffsetOrder = [...records].sort((a, b) => Number(a.offset) - Number(b.offset));
      expect(inOffsetOrder.map((record) => headerText(record.headers, MessageHeaders.messageId))).toEqual(envelopes.map((envelope) => envelope.id));
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'refuses a batch holding an invalid or unknown message and sends none of it',
    async () => {
      const topic = await freshTopic(1);
      const publisher = await connectedPublisher(topic);
      const invalid = { ...riskAssessed(), data: { paymentId: randomUUID(), score: 500 } } as MessageEnvelope;
      const unknown = { ...riskAssessed(), type: 'NoSuchMessage' } as MessageEnvelope;
      await expect(publisher.publish([riskAssessed(), invalid])).rejects.toThrow(ContractViolationError);
      await expect(publisher.publish([riskAssessed(), unknown])).rejects.toThrow(ContractViolationError);
      expect(await endOffsets(topic)).toBe(0);
      await publisher.publish([riskAssessed()]);
      expect(await endOffsets(topic)).toBe(1);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "with invalid: 'dead_letter', sends a message that breaks its contract to the dead-letter topic with the reason, and the rest to their topic",
    async () => {
      const topic = await freshTopic(1);
      const deadLetterTopic = deadLetterTopicOf(topic);
      await ensureTopics(settings, [deadLetterTopic], { partitions: 1 });
      createdTopics.push(deadLetterTopic);
      const publisher = await connectedPublisher(topic);
      const before = riskAssessed();
      const invalid = { ...riskAssessed(), data: { paymentId: randomUUID(), score: 500 } } as MessageEnvelope;
      const after = riskAssessed();

      await publisher.publish([before, invalid, after], { invalid: 'dead_letter' });

      const published = await readRecords(settings, topic, 2);
      expect(published.map((record) => headerText(record.headers, MessageHeaders.messageId))).toEqual([before.id, after.id]);
      const [deadLetter, ...more] = await readRecords(settings, deadLetterTopic, 1);
      expect(more).toEqual([]);
      expect(JSON.parse(deadLetter?.value?.toString('utf8') ?? 'null')).toEqual(invalid);
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.reason)).toMatch(/^RiskAssessed: data/);
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.originalTopic)).toBe(topic);
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.consumerGroup)).toBe('producer:it');
      expect(headerText(deadLetter?.headers, DeadLetterHeaders.attempts)).toBe('0');
      // A message of an unknown type has no topic at all: the call still fails, sending nothing.
      const unknown = { ...riskAssessed(), type: 'NoSuchMessage' } as MessageEnvelope;
      await expect(publisher.publish([riskAssessed(), unknown], { invalid: 'dead_letter' })).rejects.toThrow(ContractViolationError);
      expect(await endOffsets(topic)).toBe(2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'refuses to publish before connect()',
    async () => {
      const publisher = new MessagePublisher({ settings, producerName: 'it', metrics: new Registry() });
      await expect(publisher.publish([riskAssessed()])).rejects.toThrow(/before connect/);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('ensureTopics', () => {
  it(
    'creates missing topics with the partitions asked for, and is a no-op the second time',
    async () => {
      const topics = [`it.ensure.${uniqueSuffix()}`, `it.ensure.${uniqueSuffix()}`];
      createdTopics.push(...topics);
      expect((await ensureTopics(settings, topics, { partitions: 2 })).sort()).toEqual([...topics].sort());
      expect(await ensureTopics(settings, [...topics, ...topics], { partitions: 2 })).toEqual([]);
      const admin = createKafka(settings).admin();
      await admin.connect();
      try {
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
        expect(metadata.map((topic) => topic.partitions.length)).toEqual([2, 2]);
      } finally {
        await admin.disconnect();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'gives the same topics to several concurrent callers',
    async () => {
      const topic = `it.ensure.${uniqueSuffix()}`;
      createdTopics.push(topic);
      const created = await Promise.all(Array.from({ length: 4 }, () => ensureTopics(settings, [topic])));
      expect(created.flat().length).toBeGreaterThanOrEqual(1);
      expect(await ensureTopics(settings, [topic])).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
