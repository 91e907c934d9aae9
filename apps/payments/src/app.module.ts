import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@clearline/service-runtime';
import { PaymentProcessor } from './payment-processor.js';
import { PaymentTimeoutScheduler } from './payment-timeout.scheduler.js';
import { paymentTimeouts } from './payments.config.js';
import { PAYMENT_TIMEOUTS } from './payments.tokens.js';
import { PaymentsWorker } from './payments.worker.js';

@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'payments', uses: { postgres: true, kafka: true } })],
  providers: [{ provide: PAYMENT_TIMEOUTS, useFactory: () => paymentTimeouts() }, PaymentProcessor, PaymentsWorker, PaymentTimeoutScheduler],
})
export class AppModule {}
