import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { CatchUpSubscription, PostgresEventStore, type RecordedEvent } from '@clearline/event-store';
import { LOGGER, POSTGRES_POOL, type Logger } from '@clearline/service-runtime';
import type { Pool, PoolClient } from 'pg';
import { projectEvent, PROJECTED_CATEGORIES } from './payment-projection.js';

export const PROJECTION_SUBSCRIPTION_ID = 'analytics:read-models:v2';

/** Keeps the read models current by tailing the event store (history first, then live). */
@Injectable()
export class ProjectionWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly subscription: CatchUpSubscription;

  constructor(store: PostgresEventStore, @Inject(POSTGRES_POOL) pool: Pool, @Inject(LOGGER) logger: Logger) {
    this.subscription = new CatchUpSubscription({
      store,
      pool,
      // The version moves whenever a migration empties the read models for a rebuild (0002 did).
      subscriptionId: PROJECTION_SUBSCRIPTION_ID,
      categories: PROJECTED_CATEGORIES,
      batchSize: 500,
      handle: async (events: RecordedEvent[], client: PoolClient) => {
        for (const event of events) await projectEvent(event, client);
      },
      onError: (error: unknown) => logger.error({ err: error }, 'projection batch failed; retrying'),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Resolves once the checkpoint is loaded and the loop runs; a failure here fails the boot, so a
    // service that cannot project never reports ready with stale read models.
    await this.subscription.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.subscription.stop();
  }
}
