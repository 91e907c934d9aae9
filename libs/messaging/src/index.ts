export {
  createKafka, DEFAULT_KAFKA_BROKERS, kafkaNamespaceFromEnv, kafkaSettingsFromEnv, logicalTopic, physicalGroup, physicalTopic, type KafkaLogLevelName, type KafkaSettings,
} from './kafka-settings.js';
export { childLogger, silentLogger, type Logger } from './logger.js';
export { checkKafkaConnection, deleteTopics, ensureTopics, type DeleteTopicsOptions, type EnsureTopicsOptions } from './topic-admin.js';
export { MAX_PUBLISH_BATCH, MessagePublisher, type MessagePublisherOptions, type PublishOptions, type PublishReceipt } from './message-publisher.js';
export { DATABASE_BOUND_GROUP_TIMING, MessageConsumer, type MessageConsumerOptions, type MessageContext, type MessageHandler } from './message-consumer.js';
export { HandlerTimeoutError, MessagingInfrastructureError, PermanentMessageError } from './message-errors.js';
export {
  CONTENT_TYPE_JSON,
  DEAD_LETTER_REASON_MAX_LENGTH,
  DeadLetterHeaders,
  deadLetterHeaders,
  envelopeHeaders,
  headerText,
  type DeadLetterFailure,
  type HeaderValue,
  type KafkaHeaders,
} from './message-headers.js';
export { DEFAULT_MAX_MESSAGE_BYTES, parseMessage, type ParsedMessage } from './message-parsing.js';
export { DEFAULT_BACKOFF } from './retry-backoff.js';
export { MetricNames, messagingMetrics, type ConsumeOutcome, type MessagingMetrics } from './messaging.metrics.js';
export { messagingMigrations } from './messaging.migrations.js';
