import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@clearline/service-runtime';
import { LedgerQueriesController } from './ledger-queries.controller.js';
import { ProjectionWorker } from './projection.worker.js';
import { ReadModelsController } from './read-models.controller.js';

@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'analytics', uses: { postgres: true } })],
  controllers: [ReadModelsController, LedgerQueriesController],
  providers: [ProjectionWorker],
})
export class AppModule {}
