import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@clearline/service-runtime';
import { ConnectorExecutor } from './connector-executor.js';
import { PaymentProcessor } from './payment-processor.js';
import { PaymentTimeoutScheduler } from './payment-timeout.scheduler.js';
import { paymentTimeouts, settlementSettings } from './payments.config.js';
import { PAYMENT_TIMEOUTS, SETTLEMENT_SETTINGS } from './payments.tokens.js';
import { PaymentsWorker } from './payments.worker.js';
import { SettlementHandler } from './settlement-handler.js';
import { SettlementScheduler } from './settlement.scheduler.js';

@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'payments', uses: { postgres: true, kafka: true, redis: true } })],
  providers: [
    { provide: PAYMENT_TIMEOUTS, useFactory: () => paymentTimeouts() },
    { provide: SETTLEMENT_SETTINGS, useFactory: () => settlementSettings() },
    PaymentProcessor, SettlementHandler, PaymentsWorker, PaymentTimeoutScheduler, SettlementScheduler, ConnectorExecutor,
  ],
})
export class AppModule {}
