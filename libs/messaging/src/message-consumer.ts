import { deadLetterTopicOf, type ContractEnvelope } from '@clearline/contracts';
import kafkajs, { type Consumer, type EachBatchPayload, type KafkaMessage, type Producer } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import type { Registry } from 'prom-client';
import { createKafka, type KafkaSettings } from './kafka-settings.js';
import { childLogger, silentLogger, type Logger } from './logger.js';
import { deadLetterHeaders } from './message-headers.js';
import {
  describeError,
  HandlerTimeoutError,
  isConnectivityError,
  MessagingInfrastructureError,
  PermanentMessageError,
} from './message-errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES, parseMessage } from './message-parsing.js';
import { lagAfter, messagingMetrics, type ConsumeOutcome, type MessagingMetrics } from './messaging.metrics.js';
import { assertValidBackoff, DEFAULT_BACKOFF, retryDelayMs, type Backoff } from './retry-backoff.js';

const { Partitioners } = kafkajs;

/** What a handler gets besides the envelope. */
export interface MessageContext {
  /** The connection of the transaction that also records the message in the inbox: write with it. */
  client: PoolClient;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** 1 on the first attempt, up to maxAttempts. */
  attempt: number;
  /** Carries correlationId, messageId and messageType of the message. */
  logger: Logger;
}

export type MessageHandler = (envelope: ContractEnvelope, context: MessageContext) => Promise<void>;

export interface MessageConsumerOptions {
  settings: KafkaSettings;
  /** The consumer group; also the inbox's de-duplication scope. */
  groupId: string;
  topics: readonly string[];
  pool: Pool;
  handle: MessageHandler;
  logger?: Logger;
  /** Prometheus registry for the messaging metrics. Default: prom-client's global registry. */
  metrics?: Registry;
  /** Handler attempts before a message is dead-lettered. Default 5, at most 20. */
  maxAttempts?: number;
  /** Delay between attempts. Default { initialMs: 100, maxMs: 5000 }. */
  backoff?: Backoff;
  /**
   * Partitions handled at the same time. Default 1, at most 64. Each takes one pooled PostgreSQL
   * connection while it handles a message, so the pool needs at least this many.
   */
  partitionsConsumedConcurrently?: number;
  /**
   * Time limit of one handler attempt. Default 10 000 ms; must stay below sessionTimeoutMs, since
   * the group hears no heartbeat while a handler runs. An attempt that overruns is a failed attempt
   * and its connection is closed, which rolls its transaction back.
   */
  handlerTimeoutMs?: number;
  /** Kafka group session timeout. Default 30 000 ms. */
  sessionTimeoutMs?: number;
  /** Larger record values are dead-lettered unparsed. Default 1 MiB. */
  maxMessageBytes?: number;
}

const MAX_ATTEMPTS_LIMIT = 20;
const MAX_CONCURRENT_PARTITIONS = 64;
/** Longest sleep between heartbeats while waiting to retry. */
const HEARTBEAT_SLICE_MS = 1_000;
/** Offsets are committed at least this often, and after at most this many messages, mid-batch. */
const COMMIT_INTERVAL_MS = 1_000;
const COMMIT_THRESHOLD_MESSAGES = 100;
/** Broker long-poll when there is nothing to fetch; short, so stop() is quick (Java's default too). */
const FETCH_MAX_WAIT_MS = 500;
const DEAD_LETTER_ACK_TIMEOUT_MS = 30_000;

const INSERT_INBOX = `insert into messaging.inbox (consumer_group, message_id, message_type, topic, partition, "offset")
values ($1, $2, $3, $4, $5, $6)
on conflict (consumer_group, message_id) do nothing`;

type ConnectionState = { broken: Error | undefined };

/**
 * Consumes contract messages with an exactly-once effect per consumer group: each message is
 * recorded in messaging.inbox in the same PostgreSQL transaction as the handler's writes, so a
 * redelivered message is recognised and skipped. Failures are retried with backoff, then the
 * message goes to `<topic>.dlq` with the reason, and the partition moves on.
 */
export class MessageConsumer {
  private readonly consumer: Consumer;
  private readonly deadLetterProducer: Producer;
  private readonly logger: Logger;
  private readonly metrics: MessagingMetrics;
  private readonly maxAttempts: number;
  private readonly backoff: Backoff;
  private readonly handlerTimeoutMs: number;
  private readonly maxMessageBytes: number;
  private readonly stopSignal = new AbortController();
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: MessageConsumerOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.handlerTimeoutMs = options.handlerTimeoutMs ?? 10_000;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    assertValidOptions(options, this.maxAttempts, this.handlerTimeoutMs, sessionTimeoutMs);
    assertValidBackoff(this.backoff);
    this.logger = childLogger(options.logger ?? silentLogger, { consumerGroup: options.groupId });
    this.metrics = messagingMetrics(options.metrics);
    const kafka = createKafka({ ...options.settings, clientId: `${options.settings.clientId}-${options.groupId}` }, this.logger);
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeoutMs / 3)),
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      allowAutoTopicCreation: false,
    });
    this.deadLetterProducer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: 5 },
    });
  }

  /** Joins the group and starts consuming; resolves once partitions are assigned. */
  async start(): Promise<void> {
    if (this.started) throw new Error(`MessageConsumer ${this.options.groupId}: start() called twice`);
    this.started = true;
    try {
      await this.deadLetterProducer.connect();
      await this.consumer.connect();
      this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
        // kafkajs restarts after retriable failures (infrastructure ones included); a consumer that
        // will not restart is dead, and the process should be replaced.
        this.logger.error({ err: payload.error, restart: payload.restart }, payload.restart ? 'Kafka consumer crashed; restarting' : 'Kafka consumer crashed for good');
      });
      await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: true });
      await this.consumer.run({
        autoCommit: true,
        autoCommitInterval: COMMIT_INTERVAL_MS,
        autoCommitThreshold: COMMIT_THRESHOLD_MESSAGES,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
        eachBatch: (payload) => this.consumeBatch(payload),
      });
      this.logger.info({ topics: this.options.topics }, 'consumer started');
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /**
   * Finishes the message in hand (a retry that is waiting is abandoned: the message stays uncommitted
   * and is redelivered), commits what was processed, leaves the group and disconnects.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    this.stopSignal.abort();
    try {
      await this.consumer.disconnect();
    } finally {
      await this.deadLetterProducer.disconnect();
      this.logger.info({}, 'consumer stopped');
    }
  }

  private async consumeBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.stopSignal.signal.aborted) return;
      let processed: boolean;
      try {
        processed = await this.consumeMessage(topic, partition, message, heartbeat);
      } catch (error) {
        // Thrown to kafkajs, which commits what was resolved before this message and fetches again
        // from it, restarting the consumer if the failure persists: the message is not lost.
        this.logger.error({ err: error, topic, partition, offset: message.offset }, 'infrastructure failure; the message will be redelivered');
        throw error;
      }
      if (!processed) return;
      resolveOffset(message.offset);
      this.metrics.consumerLag.set({ topic, partition: String(partition), group: this.options.groupId }, lagAfter(batch.highWatermark, message.offset));
      await commitOffsetsIfNecessary();
      await heartbeat();
    }
  }

  /** True once the message is handled, skipped or dead-lettered; false if abandoned by stop(). */
  private async consumeMessage(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void>): Promise<boolean> {
    const labels = { topic, group: this.options.groupId };
    const endTimer = this.metrics.handleDuration.startTimer(labels);
    try {
      const parsed = parseMessage(message.value, this.maxMessageBytes);
      if (!parsed.accepted) {
        this.logger.warn({ topic, partition, offset: message.offset, reason: parsed.reason }, 'message rejected; dead-lettering it');
        await this.deadLetter(topic, partition, message, parsed.reason, 0);
        this.count(topic, 'dead_lettered');
        return true;
      }
      const { envelope } = parsed;
      const logger = childLogger(this.logger, {
        correlationId: envelope.metadata.correlationId,
        messageId: envelope.id,
        messageType: envelope.type,
        topic,
        partition,
        offset: message.offset,
      });
      const key = message.key === null ? null : message.key.toString('utf8');
      for (let attempt = 1; ; attempt += 1) {
        try {
          const outcome = await this.handleInTransaction(envelope, { topic, partition, offset: message.offset, key, attempt, logger });
          if (outcome === 'duplicate') logger.debug({}, 'duplicate message skipped: already in the inbox');
          this.count(topic, outcome);
          return true;
        } catch (error) {
          if (error instanceof MessagingInfrastructureError) throw error;
          const permanent = error instanceof PermanentMessageError;
          if (permanent || attempt >= this.maxAttempts) {
            logger.error({ err: error, attempts: attempt }, permanent ? 'permanent failure; dead-lettering' : 'attempts exhausted; dead-lettering');
            await this.deadLetter(topic, partition, message, describeError(error), attempt);
            this.count(topic, 'dead_lettered');
            return true;
          }
          const delayMs = retryDelayMs(attempt, this.backoff);
          this.metrics.handlerRetries.inc(labels);
          logger.warn({ err: error, attempt, delayMs }, 'handler failed; retrying');
          if (!(await this.waitToRetry(delayMs, heartbeat))) return false;
        }
      }
    } finally {
      endTimer();
    }
  }

  private async handleInTransaction(envelope: ContractEnvelope, context: Omit<MessageContext, 'client'>): Promise<'handled' | 'duplicate'> {
    let client: PoolClient;
    try {
      client = await this.options.pool.connect();
    } catch (error) {
      throw new MessagingInfrastructureError(`no PostgreSQL connection: ${describeError(error)}`, { cause: error });
    }
    const connection: ConnectionState = { broken: undefined };
    // A checked-out client has no pool error listener; a connection dying mid-transaction would
    // otherwise be an unhandled 'error' event.
    const onConnectionError = (error: Error): void => {
      connection.broken ??= error;
    };
    client.on('error', onConnectionError);
    try {
      return await this.runTransaction(client, envelope, context, connection);
    } catch (error) {
      if (connection.broken === undefined) connection.broken = await rollbackQuietly(client);
      throw error;
    } finally {
      client.off('error', onConnectionError);
      // A connection in an unknown state (timed-out handler, failed rollback) is closed, not reused.
      client.release(connection.broken);
    }
  }

  private async runTransaction(
    client: PoolClient,
    envelope: ContractEnvelope,
    context: Omit<MessageContext, 'client'>,
    connection: ConnectionState,
  ): Promise<'handled' | 'duplicate'> {
    await infrastructureStep('begin', () => client.query('begin'));
    const inserted = await infrastructureStep('inbox insert', () =>
      client.query(INSERT_INBOX, [this.options.groupId, envelope.id, envelope.type, context.topic, context.partition, context.offset]),
    );
    if (inserted.rowCount === 0) {
      await infrastructureStep('commit', () => client.query('commit'));
      return 'duplicate';
    }
    try {
      await withTimeout(() => this.options.handle(envelope, { ...context, client }), this.handlerTimeoutMs);
    } catch (error) {
      // The timed-out handler may still be using the connection: close it rather than share it.
      if (error instanceof HandlerTimeoutError) connection.broken = error;
      throw asInfrastructureIfConnectivity(error);
    }
    try {
      await client.query('commit');
    } catch (error) {
      // A deferred constraint or serialization failure is the message's doing and is retried.
      throw asInfrastructureIfConnectivity(error);
    }
    return 'handled';
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, reason: string, attempts: number): Promise<void> {
    const deadLetterTopic = deadLetterTopicOf(topic);
    const headers = deadLetterHeaders(message.headers, {
      reason,
      topic,
      partition,
      offset: message.offset,
      consumerGroup: this.options.groupId,
      failedAt: new Date(),
      attempts,
    });
    try {
      await this.deadLetterProducer.send({
        topic: deadLetterTopic,
        acks: -1,
        timeout: DEAD_LETTER_ACK_TIMEOUT_MS,
        messages: [{ key: message.key, value: message.value, headers }],
      });
    } catch (error) {
      throw new MessagingInfrastructureError(`cannot publish to dead-letter topic ${deadLetterTopic}: ${describeError(error)}`, { cause: error });
    }
  }

  /** Sleeps `delayMs` in slices, heartbeating between them; false if stop() came first. */
  private async waitToRetry(delayMs: number, heartbeat: () => Promise<void>): Promise<boolean> {
    const deadline = Date.now() + delayMs;
    while (!this.stopSignal.signal.aborted) {
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) return true;
      await abortableSleep(Math.min(remainingMs, HEARTBEAT_SLICE_MS), this.stopSignal.signal);
      await heartbeat();
    }
    return false;
  }

  private count(topic: string, outcome: ConsumeOutcome): void {
    this.metrics.consumed.inc({ topic, group: this.options.groupId, outcome });
  }
}

function assertValidOptions(options: MessageConsumerOptions, maxAttempts: number, handlerTimeoutMs: number, sessionTimeoutMs: number): void {
  if (options.groupId.trim().length === 0) throw new RangeError('MessageConsumer: groupId must not be empty');
  if (options.topics.length === 0) throw new RangeError('MessageConsumer: at least one topic is required');
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw new RangeError(`MessageConsumer: maxAttempts must be an integer in 1..${MAX_ATTEMPTS_LIMIT}, got ${maxAttempts}`);
  }
  const concurrency = options.partitionsConsumedConcurrently ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENT_PARTITIONS) {
    throw new RangeError(`MessageConsumer: partitionsConsumedConcurrently must be an integer in 1..${MAX_CONCURRENT_PARTITIONS}, got ${concurrency}`);
  }
  if (!Number.isInteger(sessionTimeoutMs) || sessionTimeoutMs < 6_000) {
    throw new RangeError(`MessageConsumer: sessionTimeoutMs must be an integer of at least 6000 (the broker's minimum), got ${sessionTimeoutMs}`);
  }
  if (!Number.isFinite(handlerTimeoutMs) || handlerTimeoutMs <= 0 || handlerTimeoutMs >= sessionTimeoutMs) {
    throw new RangeError(`MessageConsumer: handlerTimeoutMs must be positive and below sessionTimeoutMs (${sessionTimeoutMs}), got ${handlerTimeoutMs}`);
  }
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1) {
    throw new RangeError(`MessageConsumer: maxMessageBytes must be a positive integer, got ${maxMessageBytes}`);
  }
}

async function infrastructureStep<T>(step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new MessagingInfrastructureError(`${step} failed: ${describeError(error)}`, { cause: error });
  }
}

function asInfrastructureIfConnectivity(error: unknown): unknown {
  return isConnectivityError(error) ? new MessagingInfrastructureError(`database unavailable: ${describeError(error)}`, { cause: error }) : error;
}

/** The rollback's own error, if it failed (the connection is then unusable), else undefined. */
async function rollbackQuietly(client: PoolClient): Promise<Error | undefined> {
  try {
    await client.query('rollback');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

async function withTimeout(work: () => Promise<void>, timeoutMs: number): Promise<void> {
  const running = (async () => work())();
  // An abandoned attempt may still fail later; that failure has already been dealt with.
  running.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    await Promise.race([running, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function abortableSleep(delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, delayMs);
    signal.addEventListener('abort', finish, { once: true });
  });
}
