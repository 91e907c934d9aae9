// Proves topic setup against the real broker: missing topics are created with leaders and a second
// call changes nothing; a broker that does not answer is tried again until the timeout, then the
// error names the brokers and the cause instead of failing at the first odd answer.
import { createKafka } from './kafka-settings.js';
import { testSettings, uniqueSuffix } from './messaging.test-kit.js';
import { deleteTopics, ensureTopics } from './topic-admin.js';

const TEST_TIMEOUT_MS = 60_000;

describe('ensureTopics', () => {
  it('creates missing topics once, with leaders, and leaves them on a second call', async () => {
    const settings = testSettings('messaging-topic-admin-it');
    const topic = `it.topic-admin.${uniqueSuffix()}`;
    try {
      expect(await ensureTopics(settings, [topic], { partitions: 2 })).toEqual([topic]);
      expect(await ensureTopics(settings, [topic], { partitions: 2 })).toEqual([]);
      const admin = createKafka(settings).admin();
      await admin.connect();
      try {
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
        expect(metadata.topics[0]?.partitions.map((partition) => partition.leader >= 0)).toEqual([true, true]);
      } finally {
        await admin.disconnect();
      }
    } finally {
      await deleteTopics(settings, [topic]);
    }
  }, TEST_TIMEOUT_MS);

  it('tries an unreachable broker again until its timeout, then names it and the cause', async () => {
    const settings = { ...testSettings('messaging-topic-admin-unreachable-it'), brokers: ['127.0.0.1:1'], connectionTimeoutMs: 200 };
    const started = Date.now();
    const failure = await ensureTopics(settings, ['it.never-created'], { timeoutMs: 2_500 }).then(() => undefined, (error: unknown) => error);
    const tookMs = Date.now() - started;
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^ensureTopics: Kafka \(127\.0\.0\.1:1\) did not let the topics be set up within 2500 ms, \d+ attempt\(s\); last error: /);
    expect(tookMs).toBeGreaterThanOrEqual(500);
    expect(tookMs).toBeLessThan(30_000);
  }, TEST_TIMEOUT_MS);
});
