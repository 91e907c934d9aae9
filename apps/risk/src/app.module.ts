import { Module } from '@nestjs/common';
import { ServiceRuntimeModule } from '@clearline/service-runtime';
import { RiskAssessor } from './risk-assessor.js';
import { RiskWorker } from './risk.worker.js';
import { VelocityCounters } from './velocity-counters.js';

@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'risk', uses: { postgres: true, kafka: true, redis: true } })],
  providers: [VelocityCounters, RiskAssessor, RiskWorker],
})
export class AppModule {}
