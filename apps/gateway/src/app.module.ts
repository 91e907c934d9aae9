import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { ServiceRuntimeModule } from '@clearline/service-runtime';
import { AccountsController } from './accounts.controller.js';
import { CardTokenizer } from './card-tokenizer.js';
import { CommandSender } from './command-sender.js';
import { CorrelationMiddleware } from './correlation.middleware.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { PaymentsController } from './payments.controller.js';
import { ReadModelClient } from './read-model.client.js';

@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'gateway', uses: { kafka: true, redis: true } })],
  controllers: [PaymentsController, AccountsController],
  providers: [CommandSender, ReadModelClient, IdempotencyInterceptor, CardTokenizer],
})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CorrelationMiddleware).forRoutes('*path');
  }
}
