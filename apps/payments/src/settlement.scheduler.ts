import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, POSTGRES_POOL, type Logger } from '@clearline/service-runtime';
import type { Pool } from 'pg';
import type { SettlementSettings } from './payments.config.js';
import { SETTLEMENT_SETTINGS } from './payments.tokens.js';
import { SettlementHandler } from './settlement-handler.js';
import { dueBatches } from './settlement-tables.js';

/**
 * Closes settlement batches on the schedule: every `pollIntervalMs` it closes, each in its own
 * transaction, up to `closeBatchSize` open batches whose window ended (`due_at`, set when the batch
 * opened: the end of its PAYMENTS_SETTLEMENT_INTERVAL_MS window, 00:00 UTC by default). Every
 * instance runs it; the settlement lock and the batch's own decider make a second close a no-op,
 * and a restart loses nothing (what is due is in the table).
 */
@Injectable()
export class SettlementScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    @Inject(POSTGRES_POOL) private readonly pool: Pool,
    private readonly settlement: SettlementHandler,
    @Inject(SETTLEMENT_SETTINGS) private readonly settings: SettlementSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.schedule();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: closes the batches due at `now`; returns their ids. Exposed for tests. */
  async closeDueBatches(now: Date = new Date()): Promise<string[]> {
    const due = await dueBatches(this.pool, now, this.settings.closeBatchSize);
    const closed: string[] = [];
    for (const batch of due) {
      if (this.stopped) break;
      const client = await this.pool.connect();
      try {
        await client.query('begin');
        const didClose = await this.settlement.closeScheduled(batch.batchId, client);
        await client.query('commit');
        if (didClose) closed.push(batch.batchId);
      } catch (error) {
        await client.query('rollback').catch(() => undefined);
        this.logger.warn({ err: error, batchId: batch.batchId }, 'scheduled settlement close failed; trying again next pass');
      } finally {
        client.release();
      }
    }
    if (closed.length > 0) this.logger.info({ batches: closed.length }, 'settlement batches closed on schedule');
    return closed;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.closeDueBatches()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.warn({ err: error }, 'settlement scheduler pass failed; trying again'))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.settings.pollIntervalMs);
  }
}
