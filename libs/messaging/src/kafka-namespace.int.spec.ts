// Proves KAFKA_NAMESPACE on a real broker: two environments using the same topic and consumer group
// names in different namespaces share the cluster without reading each other's messages; the broker
// holds the prefixed names, handlers and inboxes see the contracts' names, and a poison record is
// dead-lettered to its own namespace's dead-letter topic.
import { deadLetterTopicOf, type ContractEnvelope } from '@clearline/contracts';
import { createPool, migrate, type Pool } from '@clearline/postgres';
import { Registry } from 'prom-client';
import { createKafka, physicalGroup, physicalTopic, type KafkaSettings } from './kafka-settings.js';
import { MessageConsumer, type MessageContext } from './message-consumer.js';
import { DeadLetterHeaders, headerText } from './message-headers.js';
import { MessagePublisher } from './message-publisher.js';
import { messagingMigrations } from './messaging.migrations.js';
import { readRecords, sendRaw, TEST_DATABASE_URL, testLogger, testSettings, uniqueSuffix, waitFor } from './messaging.test-kit.js';
import { riskAssessed } from './test-envelopes.js';
import { deleteTopics, ensureTopics } from './topic-admin.js';

const TEST_TIMEOUT_MS = 90_000;
const suffix = uniqueSuffix();
const topic = `it.namespace.${suffix}`;
const groupId = `it-namespace-${suffix}`;
const environments: Record<'a' | 'b', KafkaSettings> = {
  a: { ...testSettings('messaging-namespace-it-a'), namespace: `ns-a-${suffix}`.slice(0, 40) },
  b: { ...testSettings('messaging-namespace-it-b'), namespace: `ns-b-${suffix}`.slice(0, 40) },
};

let pool: Pool;
const consumers: MessageConsumer[] = [];
const publishers: MessagePublisher[] = [];

beforeAll(async () => {
  pool = createPool({ connectionString: TEST_DATABASE_URL, max: 6, applicationName: 'messaging-namespace-int-spec' });
  await migrate(pool, [messagingMigrations]);
  for (const settings of Object.values(environments)) await ensureTopics(settings, [topic, deadLetterTopicOf(topic)], { partitions: 1 });
});

afterAll(async () => {
  for (const consumer of consumers) await consumer.stop();
  for (const publisher of publishers) await publisher.disconnect();
  for (const settings of Object.values(environments)) {
    await deleteTopics(settings, [topic, deadLetterTopicOf(topic)]);
    const admin = createKafka(settings).admin();
    await admin.connect();
    await admin.deleteGroups([physicalGroup(settings, groupId)]).catch(() => undefined);
    await admin.disconnect();
  }
  await pool.query('delete from messaging.inbox where consumer_group = $1', [groupId]);
  await pool.end();
});

async function environment(settings: KafkaSettings) {
  const received: { envelope: ContractEnvelope; topic: string }[] = [];
  const publisher = new MessagePublisher({ settings, producerName: 'it', metrics: new Registry(), topicOverride: () => topic, logger: testLogger() });
  await publisher.connect();
  publishers.push(publisher);
  const consumer = new MessageConsumer({
    settings, groupId, topics: [topic], pool, logger: testLogger(), metrics: new Registry(), backoff: { initialMs: 10, maxMs: 50 },
    handle: async (envelope: ContractEnvelope, context: MessageContext) => {
      received.push({ envelope, topic: context.topic });
    },
  });
  consumers.push(consumer);
  await consumer.start();
  return { publisher, received };
}

describe('KAFKA_NAMESPACE', () => {
  it(
    'keeps two environments with the same topic and group names apart on one broker',
    async () => {
      const admin = createKafka(environments.a).admin();
      await admin.connect();
      const onBroker = new Set(await admin.listTopics());
      await admin.disconnect();
      expect(onBroker.has(physicalTopic(environments.a, topic))).toBe(true);
      expect(onBroker.has(physicalTopic(environments.b, topic))).toBe(true);
      expect(onBroker.has(topic)).toBe(false);

      const a = await environment(environments.a);
      const b = await environment(environments.b);
      const forA = riskAssessed();
      const forB = riskAssessed();
      // The publishers' answers name the contracts' topic, not the broker's.
      expect((await a.publisher.publish([forA])).map((written) => written.topic)).toEqual([topic]);
      await b.publisher.publish([forB]);
      await sendRaw(environments.a, physicalTopic(environments.a, topic), [{ key: 'poison', value: 'not json' }]);

      await waitFor('each environment its own message', () => a.received.length === 1 && b.received.length === 1);
      expect(a.received).toEqual([{ envelope: forA, topic }]);
      expect(b.received).toEqual([{ envelope: forB, topic }]);

      const [deadLettered] = await readRecords(environments.a, physicalTopic(environments.a, deadLetterTopicOf(topic)), 1);
      expect(deadLettered!.value?.toString()).toBe('not json');
      expect(headerText(deadLettered!.headers, DeadLetterHeaders.originalTopic)).toBe(topic);
      expect(headerText(deadLettered!.headers, DeadLetterHeaders.reason)).toMatch(/JSON/i);
      // Nothing of A's reached B's dead-letter topic, and B's consumer saw no more than its own.
      expect(b.received).toHaveLength(1);
    },
    TEST_TIMEOUT_MS,
  );
});
