import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PostgresEventStore } from '@clearline/event-store';
import { MessageConsumer, MessagePublisher, type MessageConsumerOptions } from '@clearline/messaging';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import type { ServiceConfig } from './config.js';
import type { Logger } from './logger.js';
import { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
import { kafkaSettingsOf } from './kafka-settings.js';
import { LOGGER, POSTGRES_POOL, SERVICE_CONFIG } from './tokens.js';

/** Builds a service's Kafka consumers and outbox relays from the connections the runtime opened. */
@Injectable()
export class MessagingFactory {
  constructor(
    private readonly store: PostgresEventStore,
    private readonly publisher: MessagePublisher,
    private readonly metrics: Registry,
    @Inject(POSTGRES_POOL) private readonly pool: Pool,
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  consumer(
    options: Pick<MessageConsumerOptions, 'groupId' | 'topics' | 'handle'>
      & Partial<Pick<MessageConsumerOptions, 'handlerConcurrency' | 'partitionsConsumedConcurrently' | 'sessionTimeoutMs' | 'handlerTimeoutMs'>>,
  ): MessageConsumer {
    return new MessageConsumer({ ...options, settings: kafkaSettingsOf(this.config), pool: this.pool, logger: this.logger, metrics: this.metrics });
  }

  /** Publishes the stream categories this service writes; see OutboxRelay. */
  relay(options: Pick<OutboxRelayOptions, 'name' | 'categories' | 'key'>): OutboxRelay {
    return new OutboxRelay({ ...options, store: this.store, pool: this.pool, publisher: this.publisher, logger: this.logger });
  }
}

/**
 * A service's background work: relays start first (so what handlers append gets published), then
 * consumers; on shutdown consumers stop first (finishing and committing what they hold), then relays.
 */
export abstract class ServiceWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  protected constructor(
    private readonly consumers: readonly MessageConsumer[],
    private readonly relays: readonly OutboxRelay[],
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(this.relays.map((relay) => relay.start()));
    await Promise.all(this.consumers.map((consumer) => consumer.start()));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
    await Promise.all(this.relays.map((relay) => relay.stop()));
  }
}
