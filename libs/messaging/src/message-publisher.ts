import { assertValidEnvelope, contractFor, deadLetterTopicOf, isContractType, validateEnvelope, type ContractEnvelope, type MessageEnvelope } from '@clearline/contracts';
import kafkajs, { type Message, type Producer, type TopicMessages } from 'kafkajs';
import type { Registry } from 'prom-client';
import { createKafka, logicalTopic, physicalTopic, type KafkaSettings } from './kafka-settings.js';
import { silentLogger, type Logger } from './logger.js';
import { deadLetterHeaders, envelopeHeaders } from './message-headers.js';
import { messagingMetrics, type MessagingMetrics } from './messaging.metrics.js';

const { Partitioners } = kafkajs;

/** Bound on one publish call; the outbox relay and handlers publish far fewer at a time. */
export const MAX_PUBLISH_BATCH = 10_000;

/**
 * How long (ms) the broker may take to get a batch replicated to all in-sync replicas before it
 * answers with a timeout.
 */
const ACK_TIMEOUT_MS = 30_000;

/**
 * Retries of one send inside kafkajs (about 1.5 minutes with its backoff). Bounded so that a publish
 * to an unreachable cluster fails and its caller (the outbox relay) retries, instead of hanging.
 */
const SEND_RETRIES = 10;

export interface MessagePublisherOptions {
  settings: KafkaSettings;
  /** Names the producer in the client id and the logs (`payments`, `outbox-relay` ...). */
  producerName: string;
  logger?: Logger;
  /** Prometheus registry for the messaging metrics. Default: prom-client's global registry. */
  metrics?: Registry;
  /**
   * Publishes to this topic instead of the contract's. For tests, which need topics of their own, and
   * for tools that re-route (a dead-letter replay). Every other contract rule (validation, headers,
   * key) still applies; production services leave it out so the contract alone decides the topic.
   */
  topicOverride?: (envelope: ContractEnvelope) => string;
}

export interface PublishOptions {
  /**
   * The Kafka key of each message. Default: the contract's partition key of its data. The outbox
   * relay keys by event-store stream id, so that one stream's events stay in one partition, in order.
   */
  key?: (envelope: ContractEnvelope) => string;
  /**
   * What an envelope that breaks its contract does. 'throw' (default): the whole call fails and
   * nothing is sent, since for most callers it is a programming error. 'dead_letter': it goes, in
   * the same batch, to its topic's dead-letter twin with the reason (dlq-* headers, partition and
   * offset -1, group `producer:<producerName>`), and the rest is published. For the outbox relay:
   * an event stored long ago that no longer passes its contract must not stop every later event.
   * An envelope of an unknown type still fails the call: it has no topic.
   */
  invalid?: 'throw' | 'dead_letter';
}

/** Where the broker stored a batch: one entry per topic partition written. */
export interface PublishReceipt {
  topic: string;
  partition: number;
  baseOffset: string;
}

/**
 * Publishes contract messages to Kafka with an idempotent producer, waiting for all in-sync replicas.
 * Validation happens before anything is sent: an invalid message is a programming error and fails
 * the whole call.
 */
export class MessagePublisher {
  private readonly producer: Producer;
  private readonly logger: Logger;
  private readonly metrics: MessagingMetrics;
  private connected = false;

  constructor(private readonly options: MessagePublisherOptions) {
    if (options.producerName.trim().length === 0) throw new RangeError('MessagePublisher: producerName must not be empty');
    this.logger = options.logger ?? silentLogger;
    this.metrics = messagingMetrics(options.metrics);
    const kafka = createKafka({ ...options.settings, clientId: `${options.settings.clientId}-${options.producerName}` }, this.logger);
    this.producer = kafka.producer({
      // Passing the default partitioner explicitly is what silences kafkajs' v2 partitioner warning.
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      // kafkajs serialises idempotent requests per broker anyway; 1 also keeps ordering across retries.
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: SEND_RETRIES },
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
  }

  /**
   * Sends the envelopes in one batch and resolves once the broker has acknowledged every one of them
   * (acks = all in-sync replicas). Messages with the same key keep their relative order.
   */
  async publish(envelopes: readonly MessageEnvelope[], options: PublishOptions = {}): Promise<PublishReceipt[]> {
    if (!this.connected) throw new Error(`MessagePublisher ${this.options.producerName}: publish before connect()`);
    if (envelopes.length > MAX_PUBLISH_BATCH) {
      throw new RangeError(`MessagePublisher: ${envelopes.length} messages in one publish, above the ${MAX_PUBLISH_BATCH} allowed`);
    }
    const { valid, rejected } = this.validate(envelopes, options);
    const topicMessages = this.toTopicMessages(valid, options);
    for (const { envelope, reason } of rejected) this.addDeadLetter(topicMessages, envelope, reason, options);
    if (topicMessages.length === 0) return [];
    const metadata = await this.producer.sendBatch({ topicMessages, acks: -1, timeout: ACK_TIMEOUT_MS });
    for (const { topic, messages } of topicMessages) this.metrics.published.inc({ topic: logicalTopic(this.options.settings, topic) }, messages.length);
    this.logger.debug({ producer: this.options.producerName, count: envelopes.length, topics: topicMessages.map((entry) => entry.topic) }, 'published messages');
    return metadata.map((entry) => ({ topic: logicalTopic(this.options.settings, entry.topicName), partition: entry.partition, baseOffset: entry.baseOffset ?? '-1' }));
  }

  private validate(envelopes: readonly MessageEnvelope[], options: PublishOptions): { valid: ContractEnvelope[]; rejected: { envelope: MessageEnvelope; reason: string }[] } {
    if (options.invalid !== 'dead_letter') return { valid: envelopes.map((envelope) => assertValidEnvelope(envelope)), rejected: [] };
    const valid: ContractEnvelope[] = [];
    const rejected: { envelope: MessageEnvelope; reason: string }[] = [];
    for (const envelope of envelopes) {
      const result = validateEnvelope(envelope);
      if (result.valid) valid.push(result.envelope);
      else if (isContractType(envelope.type)) rejected.push({ envelope, reason: result.reason });
      else assertValidEnvelope(envelope);
    }
    return { valid, rejected };
  }

  /** Adds an envelope that broke its contract to the batch, bound for its topic's dead-letter twin. */
  private addDeadLetter(topicMessages: TopicMessages[], envelope: MessageEnvelope, reason: string, options: PublishOptions): void {
    const contractEnvelope = envelope as ContractEnvelope;
    const originalTopic = this.options.topicOverride?.(contractEnvelope) ?? contractFor(envelope.type).topic;
    const topic = physicalTopic(this.options.settings, deadLetterTopicOf(originalTopic));
    let headers: Record<string, string> = {};
    try {
      headers = envelopeHeaders(envelope);
    } catch {
      // Metadata broken too: the dlq-* headers and the value still say everything.
    }
    const producer = `producer:${this.options.producerName}`;
    const message: Message = {
      key: options.key?.(contractEnvelope) ?? envelope.id,
      value: JSON.stringify(envelope),
      headers: deadLetterHeaders(headers, { reason, topic: originalTopic, partition: -1, offset: '-1', consumerGroup: producer, failedAt: new Date(), attempts: 0 }),
    };
    this.logger.error({ producer: this.options.producerName, messageId: envelope.id, messageType: envelope.type, reason, deadLetterTopic: topic }, 'message breaks its contract; sent to the dead-letter topic instead');
    const existing = topicMessages.find((entry) => entry.topic === topic);
    if (existing) existing.messages.push(message);
    else topicMessages.push({ topic, messages: [message] });
  }

  private toTopicMessages(envelopes: readonly ContractEnvelope[], options: PublishOptions): TopicMessages[] {
    const byTopic = new Map<string, Message[]>();
    for (const envelope of envelopes) {
      const contract = contractFor(envelope.type);
      const topic = physicalTopic(this.options.settings, this.options.topicOverride?.(envelope) ?? contract.topic);
      const key = options.key?.(envelope) ?? contract.partitionKey(envelope.data);
      const message: Message = { key, value: JSON.stringify(envelope), headers: envelopeHeaders(envelope) };
      const messages = byTopic.get(topic);
      if (messages) messages.push(message);
      else byTopic.set(topic, [message]);
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  }
}
