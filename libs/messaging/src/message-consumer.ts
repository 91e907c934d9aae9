import { deadLetterTopicOf, type ContractEnvelope } from '@clearline/contracts';
import kafkajs, { type Consumer, type EachBatchPayload, type KafkaMessage, type Producer } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HandlerDeadline } from './handler-deadline.js';
import { queriesInTurn } from './queries-in-turn.js';
import {
  asInfrastructureIfConnectivity,
  commitTransaction,
  forgetInInbox,
  infrastructureStep,
  recordInInbox,
  recordManyInInbox,
  rollBack,
  withInboxConnection,
  type InboxConnection,
  type InboxEntry,
  type InboxSource,
} from './inbox.js';
import { createKafka, logicalTopic, physicalGroup, physicalTopic, type KafkaSettings } from './kafka-settings.js';
import { childLogger, lazyChildLogger, silentLogger, type Logger } from './logger.js';
import { DeadLetterHeaders, deadLetterHeaders } from './message-headers.js';
import { describeError, HandlerTimeoutError, MessagingInfrastructureError, PermanentMessageError } from './message-errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES, parseMessage } from './message-parsing.js';
import { lagAfter, messagingMetrics, type MessagingMetrics } from './messaging.metrics.js';
import { retryDelayMs, type Backoff } from '@clearline/retry';
import { assertValidBackoff, DEFAULT_BACKOFF } from './retry-backoff.js';

const { Partitioners } = kafkajs;

/** What a handler gets besides the envelope. */
export interface MessageContext {
  /**
   * The connection of the transaction that also records the message in the inbox: write with it,
   * and never commit or roll back on it. The transaction may hold other messages of the same
   * partition, handled before this one in the same chunk.
   */
  client: PoolClient;
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** 1 on the first attempt, up to maxAttempts. */
  attempt: number;
  /** Carries correlationId, messageId and messageType of the message. */
  logger: Logger;
  /**
   * Runs `callback` once the transaction holding this message has committed, and never when it is
   * rolled back: for what a handler may only remember (a cache of what it wrote) once it is durable.
   * Callbacks run in the order they were given, must not throw (a throw is logged), and must be quick.
   */
  afterCommit: (callback: () => void) => void;
}

export type MessageHandler = (envelope: ContractEnvelope, context: MessageContext) => Promise<void>;

/**
 * Group timing for consumers whose handlers only wait on PostgreSQL and Redis (milliseconds), never on
 * a provider: a member killed with SIGKILL never leaves its group, and the group's next rebalance (a
 * restarted instance's join among them) waits until the dead member's session lapses. That wait is a
 * crashed service's downtime: 10 s here instead of the 30 s default. An attempt must end within the
 * session (the group hears no heartbeat while a handler runs), hence the handler limit below it.
 */
export const DATABASE_BOUND_GROUP_TIMING = { sessionTimeoutMs: 10_000, handlerTimeoutMs: 8_000 } as const;

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
   * Partitions handled at the same time. Default 1, at most 64. Each holds one pooled PostgreSQL
   * connection for the whole of a chunk's transaction, so the pool needs at least this many.
   */
  partitionsConsumedConcurrently?: number;
  /**
   * Messages of one partition handled in one PostgreSQL transaction, at most. Default 100, at most
   * 1 000. A chunk costs one commit (one WAL flush) instead of one per message; its locks are held
   * until the chunk commits.
   */
  maxMessagesPerTransaction?: number;
  /**
   * A chunk takes no further message once its transaction is this old. Default 100 ms. The chunk's
   * transaction holds back every reader of the event store's `$all` (they read up to the oldest open
   * transaction) and holds its locks until it commits: this bounds both, whatever the handlers take,
   * give or take one handler.
   */
  maxTransactionMs?: number;
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
  /**
   * How the handlers of a chunk run. 'sequential' (default): each waits for the one before it.
   * 'chunk': all of them are started, in offset order, before any is awaited, and the chunk commits
   * once every one has finished; for handlers that hand their message to a writer that batches
   * (the ledger's group commit), which sees a chunk at once instead of one message per round trip.
   * They share the chunk's connection (node-postgres runs its queries in the order they were sent).
   * A failure rolls the chunk back and blames the first failed message in offset order; the
   * messages before it are handled again, one per transaction, so their handlers must be idempotent.
   * The chunk's handlers share one handlerTimeoutMs, and maxTransactionMs does not cut the chunk.
   */
  handlerConcurrency?: 'sequential' | 'chunk';
}

const MAX_ATTEMPTS_LIMIT = 20;
const MAX_CONCURRENT_PARTITIONS = 64;
const DEFAULT_MESSAGES_PER_TRANSACTION = 100;
const MAX_MESSAGES_PER_TRANSACTION = 1_000;
const DEFAULT_TRANSACTION_MS = 100;
/** Beyond this a chunk would hold back `$all` readers for longer than a handler may run by default. */
const MAX_TRANSACTION_MS = 10_000;
/** Longest time without a heartbeat between handlers, and between heartbeats while waiting to retry. */
const HEARTBEAT_SLICE_MS = 1_000;
/** Offsets are committed at least this often, and after at most this many messages, mid-batch. */
const COMMIT_INTERVAL_MS = 1_000;
const COMMIT_THRESHOLD_MESSAGES = 100;
/** Broker long-poll when there is nothing to fetch; short, so stop() is quick (Java's default too). */
const FETCH_MAX_WAIT_MS = 500;
const DEAD_LETTER_ACK_TIMEOUT_MS = 30_000;

/** A record whose value is a contract-valid envelope. */
interface AcceptedRecord {
  message: KafkaMessage;
  envelope: ContractEnvelope;
}

/** Records of a batch up to the next one that cannot be handled (not JSON, invalid ...), if any. */
interface RecordRun {
  records: AcceptedRecord[];
  rejected: { message: KafkaMessage; reason: string } | undefined;
}

/** What the consumer keeps per partition: where messages come from and label-bound metrics. */
interface PartitionState {
  source: InboxSource;
  handled: Counter.Internal;
  duplicate: Counter.Internal;
  deadLettered: Counter.Internal;
  retries: Counter.Internal;
  duration: Histogram.Internal<'topic' | 'group'>;
  lag: Gauge.Internal<'topic' | 'partition' | 'group'>;
}

/** A handler attempt that failed, and how. */
interface FailedAttempt {
  error: unknown;
}

/**
 * How a chunk's transaction ended. `failed` was rolled back; `blame` names the message whose handler
 * failed, when the failure is that message's own and not the shared transaction's.
 */
type ChunkOutcome =
  | { kind: 'committed'; processed: number; handled: number; interruption: unknown }
  | { kind: 'failed'; blame: (FailedAttempt & { index: number }) | undefined; error: unknown };

/**
 * Consumes contract messages with an exactly-once effect per consumer group: each message is
 * recorded in messaging.inbox in the same PostgreSQL transaction as the handler's writes, so a
 * redelivered message is recognised and skipped. The messages of a fetched batch are handled in
 * chunks, one transaction each; when a handler fails, its chunk is rolled back and handled again
 * one message per transaction, where failures are retried with backoff, then the message goes to
 * `<topic>.dlq` with the reason, and the partition moves on.
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
  private readonly maxMessagesPerTransaction: number;
  private readonly maxTransactionMs: number;
  private readonly partitions = new Map<string, PartitionState>();
  private readonly stopSignal = new AbortController();
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: MessageConsumerOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.handlerTimeoutMs = options.handlerTimeoutMs ?? 10_000;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxMessagesPerTransaction = options.maxMessagesPerTransaction ?? DEFAULT_MESSAGES_PER_TRANSACTION;
    this.maxTransactionMs = options.maxTransactionMs ?? DEFAULT_TRANSACTION_MS;
    const sessionTimeoutMs = options.sessionTimeoutMs ?? 30_000;
    assertValidOptions(options, this.maxAttempts, this.handlerTimeoutMs, sessionTimeoutMs, this.maxMessagesPerTransaction, this.maxTransactionMs);
    assertValidBackoff(this.backoff);
    this.logger = childLogger(options.logger ?? silentLogger, { consumerGroup: options.groupId });
    this.metrics = messagingMetrics(options.metrics);
    const kafka = createKafka({ ...options.settings, clientId: `${options.settings.clientId}-${options.groupId}` }, this.logger);
    this.consumer = kafka.consumer({
      groupId: physicalGroup(options.settings, options.groupId),
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
      await this.consumer.subscribe({ topics: this.options.topics.map((topic) => physicalTopic(this.options.settings, topic)), fromBeginning: true });
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
   * Finishes the message in hand and commits the chunk it belongs to (a retry that is waiting is
   * abandoned: the message stays uncommitted and is redelivered), commits the offsets of what was
   * processed, leaves the group and disconnects.
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

  private async consumeBatch(payload: EachBatchPayload): Promise<void> {
    const { partition, messages } = payload.batch;
    const topic = logicalTopic(this.options.settings, payload.batch.topic);
    const state = this.partitionState(topic, partition);
    let next = 0;
    try {
      while (next < messages.length && !this.mustStop(payload)) {
        const run = this.takeRun(messages, next);
        if (run.records.length > 0) {
          const done = await this.consumeRecords(state, run.records, payload);
          next += done;
          if (done < run.records.length) return;
        }
        if (run.rejected !== undefined) {
          await this.reject(state, run.rejected.message, run.rejected.reason);
          await this.settle(state, payload, run.rejected.message.offset);
          next += 1;
        }
      }
    } catch (error) {
      // Thrown to kafkajs, which commits what was resolved before this message and fetches again
      // from it, restarting the consumer if the failure persists: the message is not lost.
      if (error instanceof MessagingInfrastructureError) {
        this.logger.error({ err: error, topic, partition, offset: messages[next]?.offset }, 'infrastructure failure; the message will be redelivered');
      }
      throw error;
    }
  }

  private mustStop({ isRunning, isStale }: EachBatchPayload): boolean {
    return this.stopSignal.signal.aborted || !isRunning() || isStale();
  }

  /** Parses records from `from` on, at most a transaction's worth, stopping after one it rejects. */
  private takeRun(messages: readonly KafkaMessage[], from: number): RecordRun {
    const records: AcceptedRecord[] = [];
    for (let index = from; index < messages.length && records.length < this.maxMessagesPerTransaction; index += 1) {
      const message = messages[index]!;
      const parsed = parseMessage(message.value, this.maxMessageBytes);
      if (!parsed.accepted) return { records, rejected: { message, reason: parsed.reason } };
      records.push({ message, envelope: parsed.envelope });
    }
    return { records, rejected: undefined };
  }

  /**
   * Handles `records` (one partition's, in order) in one transaction, or several when one grows
   * old; after a failure, those up to the failed one go one per transaction and the rest in a
   * transaction again. Returns how many are done, counted from the first: fewer than all when
   * stop() or a rebalance came first.
   */
  private async consumeRecords(state: PartitionState, records: readonly AcceptedRecord[], payload: EachBatchPayload): Promise<number> {
    let done = 0;
    while (done < records.length && !this.mustStop(payload)) {
      const chunk = done === 0 ? records : records.slice(done);
      const outcome = await this.consumeChunk(state, chunk, payload);
      if (outcome.kind === 'committed') {
        done += outcome.processed;
        await this.settle(state, payload, chunk[outcome.processed - 1]!.message.offset);
        if (outcome.interruption !== undefined) throw outcome.interruption;
        continue;
      }
      const alone = chunk.slice(0, outcome.blame === undefined ? chunk.length : outcome.blame.index + 1);
      this.logger.debug(
        { err: outcome.error, topic: state.source.topic, partition: state.source.partition, offset: chunk[0]!.message.offset, messages: alone.length },
        'chunk rolled back; handling its messages one per transaction',
      );
      const doneAlone = await this.consumeAlone(state, alone, payload, outcome.blame);
      done += doneAlone;
      if (doneAlone < alone.length) return done;
    }
    return done;
  }

  /** Resolves the offset (the partition is done up to it) and lets kafkajs commit and heartbeat. */
  private async settle(state: PartitionState, payload: EachBatchPayload, offset: string): Promise<void> {
    payload.resolveOffset(offset);
    state.lag.set(lagAfter(payload.batch.highWatermark, offset));
    await payload.commitOffsetsIfNecessary();
    await payload.heartbeat();
  }

  private async consumeChunk(state: PartitionState, chunk: readonly AcceptedRecord[], payload: EachBatchPayload): Promise<ChunkOutcome> {
    const startedAt = performance.now();
    const deadline = new HandlerDeadline(this.handlerTimeoutMs);
    try {
      const outcome = await withInboxConnection(this.options.pool, (connection) => this.runChunk(state, chunk, payload, connection, deadline));
      if (outcome.kind === 'committed') {
        if (outcome.handled > 0) state.handled.inc(outcome.handled);
        if (outcome.processed > outcome.handled) state.duplicate.inc(outcome.processed - outcome.handled);
        // Each message of the chunk took the chunk's time, from its start to its commit.
        const seconds = (performance.now() - startedAt) / 1_000;
        for (let index = 0; index < outcome.processed; index += 1) state.duration.observe(seconds);
      }
      return outcome;
    } finally {
      deadline.dispose();
    }
  }

  /**
   * One transaction: the chunk's inbox rows in one statement, the handler of each new message in
   * order, one commit. It ends early, committing only what was handled, when the transaction is
   * maxTransactionMs old, when stop() or a rebalance comes, or when a heartbeat fails.
   */
  private async runChunk(
    state: PartitionState,
    chunk: readonly AcceptedRecord[],
    payload: EachBatchPayload,
    connection: InboxConnection,
    deadline: HandlerDeadline,
  ): Promise<ChunkOutcome> {
    const { client } = connection;
    await infrastructureStep('begin', () => client.query('begin'));
    const fresh = await infrastructureStep('inbox insert', () => recordManyInInbox(client, state.source, chunk.map(inboxEntryOf)));
    if (this.options.handlerConcurrency === 'chunk') return this.runChunkConcurrently(state, chunk, connection, deadline, fresh);
    let processed = 0;
    let handled = 0;
    let interruption: unknown;
    const committed: (() => void)[] = [];
    const openedAt = performance.now();
    const closesAt = openedAt + this.maxTransactionMs;
    let heartbeatDueAt = openedAt + HEARTBEAT_SLICE_MS;
    while (processed < chunk.length) {
      const record = chunk[processed]!;
      if (fresh.has(record.message.offset)) {
        const context = this.contextOf(state, record, client, 1, this.messageLogger(state, record), committed);
        try {
          deadline.arm();
          await deadline.race(this.options.handle(record.envelope, context));
        } catch (error) {
          return this.chunkFailed(connection, processed, error);
        } finally {
          deadline.disarm();
        }
        handled += 1;
      } else {
        this.messageLogger(state, record).debug({}, 'duplicate message skipped: already in the inbox');
      }
      processed += 1;
      const now = performance.now();
      if (now >= heartbeatDueAt) {
        try {
          await payload.heartbeat();
        } catch (error) {
          interruption = error;
          break;
        }
        heartbeatDueAt = performance.now() + HEARTBEAT_SLICE_MS;
      }
      if (now >= closesAt || this.mustStop(payload)) break;
    }
    if (processed < chunk.length) {
      const notHandled = chunk.slice(processed).filter((record) => fresh.has(record.message.offset));
      await infrastructureStep('inbox delete', () => forgetInInbox(client, this.options.groupId, notHandled.map((record) => record.envelope.id)));
    }
    try {
      await commitTransaction(client);
    } catch (error) {
      const failure = asInfrastructureIfConnectivity(error);
      if (failure instanceof MessagingInfrastructureError) throw failure;
      await rollBack(connection);
      return { kind: 'failed', blame: undefined, error };
    }
    this.runAfterCommit(committed);
    return { kind: 'committed', processed, handled, interruption };
  }

  /** runChunk's transaction with every new message's handler started before any is awaited. */
  private async runChunkConcurrently(
    state: PartitionState,
    chunk: readonly AcceptedRecord[],
    connection: InboxConnection,
    deadline: HandlerDeadline,
    fresh: ReadonlySet<string>,
  ): Promise<ChunkOutcome> {
    const running: { index: number; attempt: Promise<FailedAttempt | undefined> }[] = [];
    const client = queriesInTurn(connection.client);
    const committed: (() => void)[] = [];
    deadline.arm();
    for (const [index, record] of chunk.entries()) {
      if (!fresh.has(record.message.offset)) {
        this.messageLogger(state, record).debug({}, 'duplicate message skipped: already in the inbox');
        continue;
      }
      const context = this.contextOf(state, record, client, 1, this.messageLogger(state, record), committed);
      running.push({ index, attempt: this.options.handle(record.envelope, context).then(() => undefined, (error: unknown) => ({ error })) });
    }
    let failures: (FailedAttempt | undefined)[] = [];
    try {
      await deadline.race(Promise.all(running.map((handler) => handler.attempt)).then((settled) => {
        failures = settled;
      }));
    } catch (error) {
      // The chunk as a whole ran out of time (no single message is to blame), and handlers still
      // running may use the connection: it is closed, which rolls the transaction back.
      connection.broken = error instanceof Error ? error : new Error(String(error));
      return { kind: 'failed', blame: undefined, error };
    } finally {
      deadline.disarm();
    }
    const failed = failures.findIndex((failure) => failure !== undefined);
    if (failed >= 0) return this.chunkFailed(connection, running[failed]!.index, failures[failed]!.error);
    try {
      await commitTransaction(connection.client);
    } catch (error) {
      const failure = asInfrastructureIfConnectivity(error);
      if (failure instanceof MessagingInfrastructureError) throw failure;
      await rollBack(connection);
      return { kind: 'failed', blame: undefined, error };
    }
    this.runAfterCommit(committed);
    return { kind: 'committed', processed: chunk.length, handled: running.length, interruption: undefined };
  }

  private async chunkFailed(connection: InboxConnection, index: number, error: unknown): Promise<ChunkOutcome> {
    // The timed-out handler may still be using the connection: close it rather than share it.
    if (error instanceof HandlerTimeoutError) connection.broken = error;
    const failure = asInfrastructureIfConnectivity(error);
    if (failure instanceof MessagingInfrastructureError) throw failure;
    await rollBack(connection);
    return { kind: 'failed', blame: isSharedTransactionFailure(error) ? undefined : { index, error }, error };
  }

  /**
   * The per-message path: each record in a transaction of its own, with retries and dead-lettering.
   * `firstAttempt` is how the last record's handler failed in the chunk: that was its first attempt.
   * Returns how many are done, counted from the first.
   */
  private async consumeAlone(
    state: PartitionState,
    records: readonly AcceptedRecord[],
    payload: EachBatchPayload,
    firstAttempt: FailedAttempt | undefined,
  ): Promise<number> {
    for (let index = 0; index < records.length; index += 1) {
      if (this.mustStop(payload)) return index;
      const record = records[index]!;
      const handled = await this.consumeMessage(state, record, payload.heartbeat, index === records.length - 1 ? firstAttempt : undefined);
      if (!handled) return index;
      await this.settle(state, payload, record.message.offset);
    }
    return records.length;
  }

  /** True once the message is handled, skipped or dead-lettered; false if abandoned by stop(). */
  private async consumeMessage(
    state: PartitionState,
    record: AcceptedRecord,
    heartbeat: () => Promise<void>,
    firstAttempt: FailedAttempt | undefined,
  ): Promise<boolean> {
    const startedAt = performance.now();
    const logger = this.messageLogger(state, record);
    try {
      for (let attempt = 1; ; attempt += 1) {
        let failure: unknown;
        if (attempt === 1 && firstAttempt !== undefined) {
          failure = firstAttempt.error;
        } else {
          try {
            const outcome = await this.handleAlone(state, record, attempt, logger);
            if (outcome === 'duplicate') logger.debug({}, 'duplicate message skipped: already in the inbox');
            (outcome === 'duplicate' ? state.duplicate : state.handled).inc();
            return true;
          } catch (error) {
            if (error instanceof MessagingInfrastructureError) throw error;
            failure = error;
          }
        }
        const permanent = failure instanceof PermanentMessageError;
        if (permanent || attempt >= this.maxAttempts) {
          logger.error({ err: failure, attempts: attempt }, permanent ? 'permanent failure; dead-lettering' : 'attempts exhausted; dead-lettering');
          await this.deadLetter(state.source, record.message, describeError(failure), attempt);
          state.deadLettered.inc();
          return true;
        }
        const delayMs = retryDelayMs(attempt, this.backoff);
        state.retries.inc();
        logger.warn({ err: failure, attempt, delayMs }, 'handler failed; retrying');
        if (!(await this.waitToRetry(delayMs, heartbeat))) return false;
      }
    } finally {
      state.duration.observe((performance.now() - startedAt) / 1_000);
    }
  }

  private async handleAlone(state: PartitionState, record: AcceptedRecord, attempt: number, logger: Logger): Promise<'handled' | 'duplicate'> {
    return withInboxConnection(this.options.pool, async (connection) => {
      const { client } = connection;
      await infrastructureStep('begin', () => client.query('begin'));
      const fresh = await infrastructureStep('inbox insert', () => recordInInbox(client, state.source, inboxEntryOf(record)));
      if (!fresh) {
        await infrastructureStep('commit', () => client.query('commit'));
        return 'duplicate';
      }
      const deadline = new HandlerDeadline(this.handlerTimeoutMs);
      const committed: (() => void)[] = [];
      try {
        await deadline.run(() => this.options.handle(record.envelope, this.contextOf(state, record, client, attempt, logger, committed)));
      } catch (error) {
        // The timed-out handler may still be using the connection: close it rather than share it.
        if (error instanceof HandlerTimeoutError) connection.broken = error;
        throw asInfrastructureIfConnectivity(error);
      } finally {
        deadline.dispose();
      }
      try {
        await commitTransaction(client);
      } catch (error) {
        // A deferred constraint or serialization failure is the message's doing and is retried.
        throw asInfrastructureIfConnectivity(error);
      }
      this.runAfterCommit(committed);
      return 'handled';
    });
  }

  /** Dead-letters a record that can never be handled (not JSON, invalid), without attempts. */
  private async reject(state: PartitionState, message: KafkaMessage, reason: string): Promise<void> {
    const startedAt = performance.now();
    const { topic, partition } = state.source;
    this.logger.warn({ topic, partition, offset: message.offset, reason }, 'message rejected; dead-lettering it');
    await this.deadLetter(state.source, message, reason, 0);
    state.deadLettered.inc();
    state.duration.observe((performance.now() - startedAt) / 1_000);
  }

  private async deadLetter(source: InboxSource, message: KafkaMessage, reason: string, attempts: number): Promise<void> {
    const deadLetterTopic = physicalTopic(this.options.settings, deadLetterTopicOf(source.topic));
    const headers = deadLetterHeaders(message.headers, {
      reason,
      topic: source.topic,
      partition: source.partition,
      offset: message.offset,
      consumerGroup: this.options.groupId,
      failedAt: new Date(),
      attempts,
    });
    const size = message.value?.length ?? 0;
    // A value too large to consume is too large to copy: the broker would refuse the dead-letter record
    // (a compressed batch arrives far larger than it was sent), the consumer would take that for an
    // outage and fetch the record again forever, wedging its partition. The dead-letter record then
    // carries the headers and the size, and the value stays on the original topic at the offset named.
    const omitValue = size > this.maxMessageBytes;
    const send = (withValue: boolean) => this.deadLetterProducer.send({
      topic: deadLetterTopic,
      acks: -1,
      timeout: DEAD_LETTER_ACK_TIMEOUT_MS,
      messages: [{
        key: message.key,
        value: withValue ? message.value : null,
        headers: withValue ? headers : { ...headers, [DeadLetterHeaders.valueOmittedBytes]: String(size) },
      }],
    });
    try {
      try {
        await send(!omitValue);
      } catch (error) {
        if (omitValue || !isMessageTooLarge(error)) throw error;
        await send(false);
      }
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

  private contextOf(state: PartitionState, record: AcceptedRecord, client: PoolClient, attempt: number, logger: Logger, committed: (() => void)[]): MessageContext {
    const { key, offset } = record.message;
    return {
      client,
      topic: state.source.topic,
      partition: state.source.partition,
      offset,
      key: key === null ? null : key.toString('utf8'),
      attempt,
      logger,
      afterCommit: (callback) => {
        committed.push(callback);
      },
    };
  }

  /** The afterCommit callbacks of a transaction that committed; one that throws does not stop the others. */
  private runAfterCommit(callbacks: readonly (() => void)[]): void {
    for (const callback of callbacks) {
      try {
        callback();
      } catch (error) {
        this.logger.error({ err: error }, 'afterCommit callback failed');
      }
    }
  }

  /** Built on its first line: on the happy path nothing is logged per message. */
  private messageLogger(state: PartitionState, { envelope, message }: AcceptedRecord): Logger {
    return lazyChildLogger(this.logger, () => ({
      correlationId: envelope.metadata.correlationId,
      messageId: envelope.id,
      messageType: envelope.type,
      topic: state.source.topic,
      partition: state.source.partition,
      offset: message.offset,
    }));
  }

  /** Labels are hashed once per partition rather than at every update. */
  private partitionState(topic: string, partition: number): PartitionState {
    const key = `${partition}:${topic}`;
    let state = this.partitions.get(key);
    if (state === undefined) {
      const group = this.options.groupId;
      state = {
        source: { consumerGroup: group, topic, partition },
        handled: this.metrics.consumed.labels({ topic, group, outcome: 'handled' }),
        duplicate: this.metrics.consumed.labels({ topic, group, outcome: 'duplicate' }),
        deadLettered: this.metrics.consumed.labels({ topic, group, outcome: 'dead_lettered' }),
        retries: this.metrics.handlerRetries.labels({ topic, group }),
        duration: this.metrics.handleDuration.labels({ topic, group }),
        lag: this.metrics.consumerLag.labels({ topic, partition: String(partition), group }),
      };
      this.partitions.set(key, state);
    }
    return state;
  }
}

/** The broker refused a record for its size (its limit is below ours, or the copy grew uncompressed). */
function isMessageTooLarge(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === 'MESSAGE_TOO_LARGE';
}

function inboxEntryOf({ envelope, message }: AcceptedRecord): InboxEntry {
  return { messageId: envelope.id, messageType: envelope.type, offset: message.offset };
}

/**
 * Failures that belong to the chunk's transaction rather than to the handler that met them: a
 * statement after an earlier handler's failed one (25P02), a deadlock or serialization failure
 * (class 40) on locks earlier handlers took. Retried one per transaction without costing an attempt.
 */
function isSharedTransactionFailure(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && (code === '25P02' || code.startsWith('40'));
}

function assertValidOptions(
  options: MessageConsumerOptions,
  maxAttempts: number,
  handlerTimeoutMs: number,
  sessionTimeoutMs: number,
  maxMessagesPerTransaction: number,
  maxTransactionMs: number,
): void {
  if (options.groupId.trim().length === 0) throw new RangeError('MessageConsumer: groupId must not be empty');
  if (options.topics.length === 0) throw new RangeError('MessageConsumer: at least one topic is required');
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
    throw new RangeError(`MessageConsumer: maxAttempts must be an integer in 1..${MAX_ATTEMPTS_LIMIT}, got ${maxAttempts}`);
  }
  const concurrency = options.partitionsConsumedConcurrently ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENT_PARTITIONS) {
    throw new RangeError(`MessageConsumer: partitionsConsumedConcurrently must be an integer in 1..${MAX_CONCURRENT_PARTITIONS}, got ${concurrency}`);
  }
  if (!Number.isInteger(maxMessagesPerTransaction) || maxMessagesPerTransaction < 1 || maxMessagesPerTransaction > MAX_MESSAGES_PER_TRANSACTION) {
    throw new RangeError(`MessageConsumer: maxMessagesPerTransaction must be an integer in 1..${MAX_MESSAGES_PER_TRANSACTION}, got ${maxMessagesPerTransaction}`);
  }
  if (!Number.isFinite(maxTransactionMs) || maxTransactionMs < 0 || maxTransactionMs > MAX_TRANSACTION_MS) {
    throw new RangeError(`MessageConsumer: maxTransactionMs must be in 0..${MAX_TRANSACTION_MS}, got ${maxTransactionMs}`);
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
