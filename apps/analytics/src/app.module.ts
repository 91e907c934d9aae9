import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@clearline/service-runtime';
import { DashboardController } from './dashboard.controller.js';
import { InsightsController } from './insights.controller.js';
import { LedgerQueriesController } from './ledger-queries.controller.js';
import { ReadModelsController } from './read-models.controller.js';
import { ReadModelsWorker } from './read-models.worker.js';

@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'analytics', uses: { postgres: true } })],
  controllers: [ReadModelsController, LedgerQueriesController, InsightsController, DashboardController],
  providers: [ReadModelsWorker],
})
export class AppModule {}
