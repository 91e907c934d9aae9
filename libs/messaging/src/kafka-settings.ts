import kafkajs, { type Kafka, type LogEntry, type logCreator } from 'kafkajs';
import { patchKafkajsRequestQueue } from './kafkajs-request-queue.patch.js';
import { silentLogger, type Logger } from './logger.js';

const { Kafka: KafkaClient, logLevel: KafkaLogLevel } = kafkajs;

export const DEFAULT_KAFKA_BROKERS: readonly string[] = ['127.0.0.1:9092'];

export type KafkaLogLevelName = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

/** How to reach Kafka. Our own type, so nothing outside this library depends on kafkajs. */
export interface KafkaSettings {
  /** Shown in broker logs and quotas; one per service (a producer or consumer adds its role). */
  clientId: string;
  /** `host:port` bootstrap brokers. */
  brokers: readonly string[];
  /** Default 3 000 ms. */
  connectionTimeoutMs?: number;
  /** Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** What kafkajs itself may log (to our logger, never to the console). Default 'info'. */
  logLevel?: KafkaLogLevelName;
  /**
   * One environment's prefix on every topic and consumer group (KAFKA_NAMESPACE), so several
   * environments share one cluster without reading each other's messages: `chaos.payments.commands`,
   * group `chaos.payments-process`. Code names topics and groups without it (the contracts' names);
   * the messaging library adds it at the broker and strips it from what it hands back. Default none.
   */
  namespace?: string;
}

const NAMESPACE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** The broker's name for a topic of the contracts (`payments.events`) in the settings' namespace. */
export function physicalTopic(settings: Pick<KafkaSettings, 'namespace'>, topic: string): string {
  return settings.namespace ? `${settings.namespace}.${topic}` : topic;
}

/** The contracts' name for a topic the broker named in the settings' namespace. */
export function logicalTopic(settings: Pick<KafkaSettings, 'namespace'>, topic: string): string {
  const prefix = settings.namespace ? `${settings.namespace}.` : '';
  return prefix !== '' && topic.startsWith(prefix) ? topic.slice(prefix.length) : topic;
}

/** The broker's name for a consumer group in the settings' namespace. */
export function physicalGroup(settings: Pick<KafkaSettings, 'namespace'>, groupId: string): string {
  return settings.namespace ? `${settings.namespace}.${groupId}` : groupId;
}

/** KAFKA_NAMESPACE, checked: lower-case letters, digits, '-' and '_', at most 40; undefined when unset or empty. */
export function kafkaNamespaceFromEnv(environment: NodeJS.ProcessEnv = process.env): string | undefined {
  const namespace = (environment['KAFKA_NAMESPACE'] ?? '').trim();
  if (namespace === '') return undefined;
  if (!NAMESPACE_PATTERN.test(namespace)) throw new RangeError(`KAFKA_NAMESPACE must be 1-40 of a-z, 0-9, '-' and '_' (starting with a letter or digit), got '${namespace}'`);
  return namespace;
}

/** Settings from the environment: KAFKA_BROKERS is a comma-separated list, default 127.0.0.1:9092. */
export function kafkaSettingsFromEnv(clientId: string, environment: NodeJS.ProcessEnv = process.env): KafkaSettings {
  const listed = (environment['KAFKA_BROKERS'] ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
  const namespace = kafkaNamespaceFromEnv(environment);
  return { clientId, brokers: listed.length > 0 ? listed : DEFAULT_KAFKA_BROKERS, ...(namespace === undefined ? {} : { namespace }) };
}

const BROKER_PATTERN = /^[^\s:,]+:\d{1,5}$/;

export function assertValidSettings(settings: KafkaSettings): void {
  if (settings.clientId.trim().length === 0) throw new RangeError('Kafka settings: clientId must not be empty');
  if (settings.brokers.length === 0) throw new RangeError('Kafka settings: at least one broker is required');
  for (const broker of settings.brokers) {
    if (!BROKER_PATTERN.test(broker)) throw new RangeError(`Kafka settings: broker '${broker}' is not host:port`);
  }
  if (settings.namespace !== undefined && !NAMESPACE_PATTERN.test(settings.namespace)) throw new RangeError(`Kafka settings: namespace '${settings.namespace}' must be 1-40 of a-z, 0-9, '-' and '_'`);
}

const levelByName: Record<KafkaLogLevelName, number> = {
  nothing: KafkaLogLevel.NOTHING,
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
};

/**
 * kafkajs warns on every idempotent producer whose retries are bounded. We bound them on purpose
 * (see MessagePublisher): a publish that cannot reach the broker must fail and be retried by its
 * caller, and consumers de-duplicate anyway. A warning that always fires teaches people to ignore
 * warnings, so this one is logged at debug level.
 */
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer'];

/** Routes kafkajs' own log lines to our logger instead of the console. */
export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      // kafkajs adds its own timestamp and `logger: 'kafkajs'`; ours has both already.
      const { message, timestamp: _timestamp, logger: _source, ...details } = log;
      const fields = { kafka: { namespace, ...details } };
      if (level === KafkaLogLevel.ERROR) logger.error(fields, message);
      else if (level === KafkaLogLevel.WARN) {
        if (EXPECTED_WARNINGS.some((expected) => message.startsWith(expected))) logger.debug(fields, message);
        else logger.warn(fields, message);
      } else if (level === KafkaLogLevel.INFO) logger.info(fields, message);
      else logger.debug(fields, message);
    };
}

/**
 * The one place a kafkajs client is built. Exported as an escape hatch for tooling; services use
 * MessagePublisher, MessageConsumer and ensureTopics, which keep kafkajs out of their types.
 */
export function createKafka(settings: KafkaSettings, logger: Logger = silentLogger): Kafka {
  assertValidSettings(settings);
  patchKafkajsRequestQueue();
  return new KafkaClient({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    connectionTimeout: settings.connectionTimeoutMs ?? 3_000,
    requestTimeout: settings.requestTimeoutMs ?? 30_000,
    logLevel: levelByName[settings.logLevel ?? 'info'],
    logCreator: kafkaLogCreator(logger),
  });
}
