import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { contractFor, type ContractEnvelope } from '@clearline/contracts';
import { MessagePublisher } from '@clearline/messaging';
import { LOGGER, PeriodicTask, POSTGRES_POOL, type Logger } from '@clearline/service-runtime';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { claimDueHolds, type DueHold } from './open-holds.js';
import { holdExpirySettings, type HoldExpirySettings } from './ledger.config.js';

/**
 * Releases holds past their expiry: every `intervalMs` it claims due holds from
 * `ledger.open_holds` and publishes an ExpireHold for each to `ledger.commands`, where the ledger
 * decides it like any other command (same partition as the hold's account, same inbox, retries
 * and dead-lettering). Safe with several instances: claims skip each other's rows and wait
 * `requestQuietMs` before asking again, and the decider makes a repeat a no-op (an expired hold
 * replays, a captured or voided one is refused without events).
 */
@Injectable()
export class HoldExpiryScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly settings: HoldExpirySettings = holdExpirySettings();
  // A failed pass leaves the holds claimed; they are asked for again after the quiet interval.
  private readonly task = new PeriodicTask({
    intervalMs: this.settings.intervalMs, pass: () => this.expireDueHolds(), logger: this.logger, failureMessage: 'hold expiry pass failed; trying again',
  });

  constructor(
    @Inject(POSTGRES_POOL) private readonly pool: Pool,
    private readonly publisher: MessagePublisher,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** One pass: claims and requests up to `batchSize` due holds. Exposed for tests. */
  async expireDueHolds(now: Date = new Date()): Promise<DueHold[]> {
    const due = await claimDueHolds(this.pool, now, this.settings.requestQuietMs, this.settings.batchSize);
    if (due.length === 0) return due;
    await this.publisher.publish(due.map((hold) => expireHoldEnvelope(hold, now)));
    this.logger.info({ holds: due.length }, 'expiry requested for holds past their expiry');
    return due;
  }
}

function expireHoldEnvelope(hold: DueHold, now: Date): ContractEnvelope {
  const correlationId = randomUUID();
  return {
    id: randomUUID(),
    type: 'ExpireHold',
    schemaVersion: contractFor('ExpireHold').schemaVersion,
    data: { holdId: hold.holdId, accountId: hold.accountId },
    metadata: { correlationId, causationId: correlationId, occurredAt: now.toISOString(), producer: 'ledger' },
  };
}
