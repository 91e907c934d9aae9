import { Global, Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { PostgresEventStore } from '@clearline/event-store';
import { ALL_TOPICS } from '@clearline/contracts';
import { checkKafkaConnection, ensureTopics, MessagePublisher } from '@clearline/messaging';
import { kafkaSettingsOf } from './kafka-settings.js';
import { MessagingFactory } from './service-worker.js';
import { createPool } from '@clearline/postgres';
import { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { readServiceConfig, type ServiceConfig, type ServiceName } from './config.js';
import { HealthController } from './health.controller.js';
import { createLogger, type Logger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { ReadinessRegistry } from './readiness.js';
import { LOGGER, POSTGRES_POOL, REDIS, SERVICE_CONFIG } from './tokens.js';

/** Closes connections last, after the app's consumers and relays have stopped. */
@Injectable()
export class ConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}
  private readonly closers: (() => Promise<unknown>)[] = [];

  add(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const close of this.closers.reverse()) {
      await close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing a connection failed'));
    }
  }
}

export interface ServiceRuntimeOptions {
  service: ServiceName;
  /** The connections this service uses; each one is opened, checked for readiness and closed. */
  uses: { postgres?: boolean; kafka?: boolean; redis?: boolean };
}

/**
 * What every Clearline service has: configuration, a JSON logger, health and metrics endpoints,
 * and the connections it declares (PostgreSQL pool and event store, Kafka publisher, Redis).
 */
@Global()
@Module({})
export class ServiceRuntimeModule {
  static forService(options: ServiceRuntimeOptions): DynamicModule {
    const config = readServiceConfig(options.service);
    const logger = createLogger(options.service, config.logLevel, config.logFile);
    const readiness = new ReadinessRegistry();
    const providers: Provider[] = [
      { provide: SERVICE_CONFIG, useValue: config },
      { provide: LOGGER, useValue: logger },
      { provide: ReadinessRegistry, useValue: readiness },
      { provide: Registry, useValue: createMetricsRegistry(options.service) },
      ConnectionCloser,
    ];
    if (options.uses.postgres) providers.push(...postgresProviders(config, readiness));
    if (options.uses.kafka) providers.push(kafkaPublisherProvider(config, logger, readiness));
    if (options.uses.redis) providers.push(redisProvider(config, readiness));
    if (options.uses.postgres && options.uses.kafka) providers.push(MessagingFactory);
    return {
      module: ServiceRuntimeModule,
      controllers: [HealthController],
      providers,
      exports: providers,
    };
  }
}

function postgresProviders(config: ServiceConfig, readiness: ReadinessRegistry): Provider[] {
  return [
    {
      provide: POSTGRES_POOL,
      inject: [ConnectionCloser],
      useFactory: (closer: ConnectionCloser): Pool => {
        const pool = createPool({ connectionString: config.databaseUrl, max: config.postgresPoolMax, applicationName: `clearline-${config.service}` });
        readiness.register({ name: 'postgres', check: async () => { await pool.query('select 1'); } });
        closer.add(() => pool.end());
        return pool;
      },
    },
    { provide: PostgresEventStore, inject: [POSTGRES_POOL], useFactory: (pool: Pool) => new PostgresEventStore(pool) },
  ];
}

function kafkaPublisherProvider(config: ServiceConfig, logger: Logger, readiness: ReadinessRegistry): Provider {
  return {
    provide: MessagePublisher,
    inject: [Registry, ConnectionCloser],
    useFactory: async (metrics: Registry, closer: ConnectionCloser): Promise<MessagePublisher> => {
      const settings = kafkaSettingsOf(config);
      // Topics (dead-letter twins included) exist before any producer or consumer of this service starts.
      await ensureTopics(settings, ALL_TOPICS, { logger });
      const publisher = new MessagePublisher({ settings, producerName: config.service, logger, metrics });
      await publisher.connect();
      closer.add(() => publisher.disconnect());
      readiness.register({ name: 'kafka', check: () => checkKafkaConnection(settings) });
      return publisher;
    },
  };
}

function redisProvider(config: ServiceConfig, readiness: ReadinessRegistry): Provider {
  return {
    provide: REDIS,
    inject: [ConnectionCloser],
    useFactory: (closer: ConnectionCloser): Redis => {
      // Bounded reconnects: commands fail fast while Redis is away instead of queueing forever.
      const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: false, lazyConnect: false });
      readiness.register({ name: 'redis', check: async () => { await redis.ping(); } });
      closer.add(() => redis.quit());
      return redis;
    },
  };
}

