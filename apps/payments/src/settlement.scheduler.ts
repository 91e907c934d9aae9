import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, PeriodicTask, POSTGRES_POOL, type Logger } from '@clearline/service-runtime';
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
  /** Set at shutdown: a pass closing many batches stops between them. */
  private stopping = false;
  private readonly task = new PeriodicTask({
    intervalMs: this.settings.pollIntervalMs, pass: () => this.closeDueBatches(), logger: this.logger, failureMessage: 'settlement scheduler pass failed; trying again',
  });

  constructor(
    @Inject(POSTGRES_POOL) private readonly pool: Pool,
    private readonly settlement: SettlementHandler,
    @Inject(SETTLEMENT_SETTINGS) private readonly settings: SettlementSettings,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.task.stop();
  }

  /** One pass: closes the batches due at `now`; returns their ids. Exposed for tests. */
  async closeDueBatches(now: Date = new Date()): Promise<string[]> {
    const due = await dueBatches(this.pool, now, this.settings.closeBatchSize);
    const closed: string[] = [];
    for (const batch of due) {
      if (this.stopping) break;
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
}
