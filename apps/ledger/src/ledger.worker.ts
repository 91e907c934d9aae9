import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Topics } from '@clearline/contracts';
import { PostgresEventStore } from '@clearline/event-store';
import type { MessageConsumer } from '@clearline/messaging';
import { LOGGER, MessagingFactory, POSTGRES_POOL, type Logger, type OutboxRelay } from '@clearline/service-runtime';
import type { Pool } from 'pg';
import { REPLY_CATEGORY } from './ledger-appends.js';
import { LedgerBatchWriter } from './ledger-batch-writer.js';
import { LedgerCommandHandler } from './ledger-command.handler.js';

/**
 * Partitions of `ledger.commands` handled at once, each a chunk of up to 100 messages in flight: the
 * writer's batches gather the chunks of all of them. One pooled connection each (their inboxes).
 */
const COMMAND_PARTITIONS_IN_PARALLEL = 3;

/**
 * How long the group waits for a member that stopped heartbeating. A leader killed with SIGKILL
 * never leaves the group, and the next leader's join waits until the dead member's session expires:
 * this is the ledger's downtime after a crash (30 s with the consumers' default; the chaos run's
 * "ledger every 2 s" showed it). Handlers only wait for the writer's group commit (milliseconds), so
 * a short session is safe; an attempt must end within the session, hence the handler limit below it.
 */
const COMMAND_SESSION_TIMEOUT_MS = 10_000;
const COMMAND_HANDLER_TIMEOUT_MS = 8_000;

/**
 * The ledger's one writer and the consumer that feeds it. Every instance publishes through the
 * outbox relay (itself leader-elected), but only the instance whose batch writer holds the ledger's
 * partition lock consumes `ledger.commands`: the others wait as hot standbys, outside the consumer
 * group, so no partition is ever assigned to an instance that cannot write. When the leader stops
 * or dies, its PostgreSQL session ends, a standby's writer takes the lock, and its consumer joins
 * the group and resumes from the committed offsets; what the old leader appended but had not
 * committed to Kafka comes again and replays (command ids make it idempotent).
 */
@Injectable()
export class LedgerWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly relay: OutboxRelay;
  private writer: LedgerBatchWriter | undefined;
  private consumer: MessageConsumer | undefined;
  private leading: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly handler: LedgerCommandHandler,
    private readonly messaging: MessagingFactory,
    private readonly store: PostgresEventStore,
    @Inject(POSTGRES_POOL) private readonly pool: Pool,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.relay = messaging.relay({ name: 'ledger', categories: ['account', 'transfer', 'hold', REPLY_CATEGORY] });
  }

  /** True while this instance writes the ledger (for tests and operators). */
  get isLeading(): boolean {
    return this.writer?.leading === true;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.relay.start();
    // Not awaited: a standby boots and reports ready while it waits for the lock.
    this.leading = this.lead();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    // The consumer first: it finishes its chunks, which wait for the writer's batches.
    await this.consumer?.stop();
    await this.writer?.stop();
    await this.leading;
    await this.relay.stop();
  }

  /** Takes the lead whenever it is free, until shutdown; a lost lock means waiting for it again. */
  private async lead(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.leadOnce();
      } catch (error) {
        this.logger.error({ err: error }, 'ledger leadership failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  private async leadOnce(): Promise<void> {
    const writer = new LedgerBatchWriter({ pool: this.pool, store: this.store, logger: this.logger });
    this.writer = writer;
    try {
      await writer.start();
      if (this.stopping || !writer.leading) return;
      const consumer = this.messaging.consumer({
        groupId: 'ledger',
        topics: [Topics.ledgerCommands],
        handle: async (envelope) => {
          await this.handler.handle(envelope, writer);
        },
        handlerConcurrency: 'chunk',
        partitionsConsumedConcurrently: COMMAND_PARTITIONS_IN_PARALLEL,
        sessionTimeoutMs: COMMAND_SESSION_TIMEOUT_MS,
        handlerTimeoutMs: COMMAND_HANDLER_TIMEOUT_MS,
      });
      this.consumer = consumer;
      try {
        await consumer.start();
        this.logger.info({}, 'ledger instance leads: it consumes ledger commands and writes the ledger');
        await writer.untilStopped();
        if (!this.stopping) this.logger.error({}, 'ledger writer lost its lock; consuming stops until it is taken again');
      } finally {
        await consumer.stop();
        if (this.consumer === consumer) this.consumer = undefined;
      }
    } finally {
      await writer.stop();
    }
  }
}
