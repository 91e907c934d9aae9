import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { LOGGER, ServiceRuntimeModule, type Logger } from '@clearline/service-runtime';
import { AccountsController } from './accounts.controller.js';
import { CardTokenizer } from './card-tokenizer.js';
import { loadChannelKeyring, type ChannelKeyring } from './channel-keys.js';
import { CommandSender } from './command-sender.js';
import { CorrelationMiddleware } from './correlation.middleware.js';
import { CHANNEL_KEYRING } from './gateway.tokens.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { ObjectAccessGuard, OwnershipRegistry } from './object-ownership.js';
import { PaymentFeedWebSocket } from './payment-feed.websocket.js';
import { PaymentUpdatesController } from './payment-updates.controller.js';
import { PaymentUpdatesHub } from './payment-updates.hub.js';
import { PaymentsController } from './payments.controller.js';
import { RateLimitMiddleware } from './rate-limit.middleware.js';
import { ReadModelClient } from './read-model.client.js';
import { RequestAuthenticationMiddleware } from './request-authentication.middleware.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';
import { SettlementBatchesController } from './settlement-batches.controller.js';

/** Read when the app is created (not when this file is imported), so each app instance sees the environment of its start. */
const keyringProvider = {
  provide: CHANNEL_KEYRING,
  inject: [LOGGER],
  useFactory: (logger: Logger): ChannelKeyring => {
    const keyring = loadChannelKeyring(process.env);
    if (keyring.source === 'development_defaults') {
      logger.warn('channel keys: GATEWAY_CHANNELS_FILE / GATEWAY_CHANNELS not set; trusting the public development keys (docs/security.md)');
    }
    return keyring;
  },
};

@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'gateway', uses: { kafka: true, redis: true } }), WebhooksModule],
  // PaymentUpdatesController first: its /v1/payments/events must match before PaymentsController's /v1/payments/:paymentId.
  controllers: [PaymentUpdatesController, PaymentsController, AccountsController, SettlementBatchesController],
  providers: [CommandSender, ReadModelClient, IdempotencyInterceptor, CardTokenizer, keyringProvider, OwnershipRegistry, ObjectAccessGuard, PaymentUpdatesHub, PaymentFeedWebSocket, RequestAuthenticationMiddleware],
})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    // In this order: every answer gets its correlation id, even a 401 or a 429; the rate limit counts
    // only requests whose client is proven. (Security headers: gateway-app.ts, before the /docs routes.)
    consumer.apply(CorrelationMiddleware, RequestAuthenticationMiddleware, RateLimitMiddleware).forRoutes('*path');
  }
}
