import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Topics } from '@clearline/contracts';
import { PostgresEventStore } from '@clearline/event-store';
import { DATABASE_BOUND_GROUP_TIMING, type MessageConsumer } from '@clearline/messaging';
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
        // Handlers only wait for the writer's group commit: a next leader's join waits 10 s, not 30 s,
        // for a killed leader's session (the chaos run's "ledger every 2 s" showed the 30 s).
        ...DATABASE_BOUND_GROUP_TIMING,
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
