import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@clearline/service-runtime';
import { PaymentProcessor } from './payment-processor.js';
import { PaymentsWorker } from './payments.worker.js';

@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'payments', uses: { postgres: true, kafka: true } })],
  providers: [PaymentProcessor, PaymentsWorker],
})
export class AppModule {}
