import { Module } from '@nestjs/common';
import { createPool } from '@clearline/postgres';
import { ConnectionCloser, LOGGER, ReadinessRegistry, SERVICE_CONFIG, type Logger, type ServiceConfig } from '@clearline/service-runtime';
import type { Pool } from 'pg';
import { CardTokenizer } from '../card-tokenizer.js';
import { IdempotencyInterceptor } from '../idempotency.interceptor.js';
import { ObjectAccessGuard, OwnershipRegistry } from '../object-ownership.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import { WebhookEventsConsumer } from './webhook-events.consumer.js';
import { webhookSecretsKeyFrom, type WebhookSecretsKey } from './webhook-secrets.js';
import { webhookSettingsFrom, type WebhookSettings } from './webhook-settings.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { WEBHOOK_POOL, WEBHOOK_SECRETS_KEY, WEBHOOK_SETTINGS } from './webhooks.tokens.js';

/**
 * Signed webhooks (docs/webhooks.md): the API, the consumer that turns events into deliveries and
 * the dispatcher that sends them. Self-contained: the gateway's other routes need no PostgreSQL, so
 * this module opens its own pool on DATABASE_URL; its tables are the `gateway` schema
 * (apps/gateway/migrations, applied by tools/migrate.mjs).
 */
@Module({
  controllers: [WebhooksController],
  providers: [
    { provide: WEBHOOK_SETTINGS, useFactory: (): WebhookSettings => webhookSettingsFrom(process.env) },
    {
      provide: WEBHOOK_SECRETS_KEY,
      inject: [LOGGER],
      useFactory: (logger: Logger): WebhookSecretsKey => {
        const key = webhookSecretsKeyFrom(process.env);
        if (key.source === 'development_default') logger.warn('webhooks: GATEWAY_CHANNEL_SECRETS_KEY is not set; signing secrets are encrypted under the public development key');
        return key;
      },
    },
    {
      provide: WEBHOOK_POOL,
      inject: [SERVICE_CONFIG, WEBHOOK_SETTINGS, ConnectionCloser, ReadinessRegistry],
      useFactory: (config: ServiceConfig, settings: WebhookSettings, closer: ConnectionCloser, readiness: ReadinessRegistry): Pool => {
        const pool = createPool({ connectionString: config.databaseUrl, applicationName: 'clearline-gateway-webhooks', max: 10 });
        // Ready only once the migrations ran: a delivery could not be recorded before.
        readiness.register({ name: 'postgres', check: async () => { await pool.query(`select 1 from "${settings.schema}".webhook_deliveries limit 0`); } });
        closer.add(() => pool.end());
        return pool;
      },
    },
    { provide: WebhooksRepository, inject: [WEBHOOK_POOL, WEBHOOK_SETTINGS], useFactory: (pool: Pool, settings: WebhookSettings) => new WebhooksRepository(pool, settings.schema) },
    // The gateway's guard and interceptor, with what they need, for this module's routes.
    OwnershipRegistry,
    ObjectAccessGuard,
    CardTokenizer,
    IdempotencyInterceptor,
    WebhookEventsConsumer,
    WebhookDispatcher,
  ],
})
export class WebhooksModule {}
