import { Module } from '@nestjs/common';
import { LOGGER, REDIS, ServiceRuntimeModule, type Logger } from '@clearline/service-runtime';
import type { Redis } from 'ioredis';
import { RedisFeatureStore } from './redis-feature-store.js';
import { RiskAdminController } from './risk-admin.controller.js';
import { RiskAssessor } from './risk-assessor.js';
import { loadRiskConfiguration } from './risk-configuration.js';
import { RiskControls } from './risk-controls.js';
import { RISK_CONFIGURATION } from './risk.tokens.js';
import { RiskWorker } from './risk.worker.js';

@Module({
  imports: [ServiceRuntimeModule.forService({ service: 'risk', uses: { postgres: true, kafka: true, redis: true } })],
  controllers: [RiskAdminController],
  providers: [
    { provide: RISK_CONFIGURATION, inject: [LOGGER], useFactory: (logger: Logger) => loadRiskConfiguration(logger) },
    { provide: RedisFeatureStore, inject: [REDIS], useFactory: (redis: Redis) => new RedisFeatureStore(redis) },
    RiskControls,
    RiskAssessor,
    RiskWorker,
  ],
})
export class AppModule {}
