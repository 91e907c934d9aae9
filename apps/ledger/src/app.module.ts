import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@clearline/service-runtime';
import { HoldExpiryScheduler } from './hold-expiry.scheduler.js';
import { LedgerCommandHandler } from './ledger-command.handler.js';
import { LedgerWorker } from './ledger.worker.js';

@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'ledger', uses: { postgres: true, kafka: true } })],
  providers: [LedgerCommandHandler, LedgerWorker, HoldExpiryScheduler],
})
export class AppModule {}
