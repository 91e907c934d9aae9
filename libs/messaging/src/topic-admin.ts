import { setTimeout as sleep } from 'node:timers/promises';
import { retryDelayMs, type Backoff } from '@clearline/retry';
import type { Admin } from 'kafkajs';
import { createKafka, logicalTopic, physicalTopic, type KafkaSettings } from './kafka-settings.js';
import { silentLogger, type Logger } from './logger.js';

export interface EnsureTopicsOptions {
  /** Partitions of each topic created. Default 3. Existing topics are left as they are. */
  partitions?: number;
  /** Default 1 (single dev broker); a production cluster uses 3. */
  replicationFactor?: number;
  /** How long to wait for creation and partition leaders. Default 30 000 ms. */
  timeoutMs?: number;
  logger?: Logger;
}

export interface DeleteTopicsOptions {
  /** Default 30 000 ms. */
  timeoutMs?: number;
  logger?: Logger;
}

const MAX_PARTITIONS = 1_000;
const LEADER_POLL_INTERVAL_MS = 100;
const TOPIC_SETUP_BACKOFF: Backoff = { initialMs: 200, maxMs: 2_000 };

/**
 * Creates the topics that do not exist yet and waits until every partition of every listed topic
 * has a leader, so a producer or consumer started next does not race the controller. Idempotent:
 * safe to run at every start of every service, concurrently. Returns the topics it created. A broker
 * that fails to answer is tried again until timeoutMs, then the error names the brokers and the cause.
 */
export async function ensureTopics(settings: KafkaSettings, topics: readonly string[], options: EnsureTopicsOptions = {}): Promise<string[]> {
  const partitions = options.partitions ?? 3;
  const replicationFactor = options.replicationFactor ?? 1;
  const timeoutMs = options.timeoutMs ?? 30_000;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new RangeError(`ensureTopics: partitions must be an integer in 1..${MAX_PARTITIONS}, got ${partitions}`);
  }
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new RangeError(`ensureTopics: replicationFactor must be a positive integer, got ${replicationFactor}`);
  }
  const wanted = [...new Set(topics.map((topic) => physicalTopic(settings, topic)))];
  if (wanted.length === 0) return [];
  const logger = options.logger ?? silentLogger;
  // A service starts while the broker may be restarting or electing leaders (kafkajs then fails in
  // odd ways, even with a TypeError on an empty metadata answer): try again until timeoutMs.
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await createMissingTopics(settings, wanted, { partitions, replicationFactor, timeoutMs: Math.max(1, deadline - Date.now()), logger });
    } catch (error) {
      const retryInMs = retryDelayMs(attempt, TOPIC_SETUP_BACKOFF);
      if (Date.now() + retryInMs >= deadline) {
        throw new Error(`ensureTopics: Kafka (${settings.brokers.join(', ')}) did not let the topics be set up within ${timeoutMs} ms, ${attempt} attempt(s); last error: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      logger.warn({ err: error, attempt, retryInMs }, 'Kafka topic setup failed; retrying');
      await sleep(retryInMs);
    }
  }
}

async function createMissingTopics(
  settings: KafkaSettings,
  wanted: readonly string[],
  options: { partitions: number; replicationFactor: number; timeoutMs: number; logger: Logger },
): Promise<string[]> {
  const { partitions, replicationFactor, timeoutMs, logger } = options;
  return withAdmin(settings, logger, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      // createTopics answers false when another process created them first; either way they exist.
      // Its own leader wait is skipped in that case, hence our own wait below.
      await admin.createTopics({
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor })),
        waitForLeaders: false,
        timeout: timeoutMs,
      });
      logger.info({ topics: missing, partitions, replicationFactor }, 'created Kafka topics');
    }
    await waitForLeaders(admin, wanted, timeoutMs);
    return missing.map((topic) => logicalTopic(settings, topic));
  });
}

/** Deletes the listed topics that exist (tests clean up with it; operators rarely should). */
export async function deleteTopics(settings: KafkaSettings, topics: readonly string[], options: DeleteTopicsOptions = {}): Promise<void> {
  const logger = options.logger ?? silentLogger;
  await withAdmin(settings, logger, async (admin) => {
    const existing = new Set(await admin.listTopics());
    const present = [...new Set(topics.map((topic) => physicalTopic(settings, topic)))].filter((topic) => existing.has(topic));
    if (present.length === 0) return;
    await admin.deleteTopics({ topics: present, timeout: options.timeoutMs ?? 30_000 });
    logger.info({ topics: present }, 'deleted Kafka topics');
  });
}

async function withAdmin<T>(settings: KafkaSettings, logger: Logger, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = createKafka({ ...settings, clientId: `${settings.clientId}-admin` }, logger).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

async function waitForLeaders(admin: Admin, topics: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no metadata yet';
  while (Date.now() < deadline) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
      const leaderless = metadata.flatMap((topic) =>
        topic.partitions.filter((partition) => partition.leader < 0).map((partition) => `${topic.name}/${partition.partitionId}`),
      );
      if (metadata.length === topics.length && leaderless.length === 0) return;
      lastProblem = leaderless.length > 0 ? `no leader for ${leaderless.join(', ')}` : 'metadata is missing topics';
    } catch (error) {
      // Right after creation the broker may not know the topic yet (UNKNOWN_TOPIC_OR_PARTITION).
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, LEADER_POLL_INTERVAL_MS));
  }
  throw new Error(`ensureTopics: topics ${topics.join(', ')} have no leaders after ${timeoutMs} ms (${lastProblem})`);
}

/**
 * Readiness probe: resolves when a broker answers a cluster description within the client's
 * connection and request timeouts. Opens a short-lived admin connection per call.
 */
export async function checkKafkaConnection(settings: KafkaSettings, logger: Logger = silentLogger): Promise<void> {
  await withAdmin(settings, logger, async (admin) => {
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('the Kafka cluster reported no brokers');
  });
}
