import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { contractFor, type ContractEnvelope } from '@clearline/contracts';
import { MessagePublisher } from '@clearline/messaging';
import { LOGGER, PeriodicTask, POSTGRES_POOL, type Logger } from '@clearline/service-runtime';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { claimDueTimeouts, type DueTimeout } from './payment-tables.js';
import { timeoutSchedulerSettings, type TimeoutSchedulerSettings } from './payments.config.js';

/**
 * Fires the payment process's timers: every `intervalMs` it claims due rows of `payments.timeouts`
 * and publishes a FirePaymentTimeout for each to `payments.commands`, keyed by the payment, where the
 * processor handles it like any command (same partition as the payment's other commands, same inbox,
 * retries and dead-lettering). The process decides on the payment's stream whether the wait is still
 * open, so a timer fired twice, late, or after a restart does no harm; nothing is lost across a restart
 * because the rows are written with the payment's events.
 */
@Injectable()
export class PaymentTimeoutScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly settings: TimeoutSchedulerSettings = timeoutSchedulerSettings();
  // A failed pass leaves the timers claimed; they are published again after the quiet interval.
  private readonly task = new PeriodicTask({
    intervalMs: this.settings.intervalMs, pass: () => this.fireDueTimeouts(), logger: this.logger, failureMessage: 'payment timeout pass failed; trying again',
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

  /** One pass: claims and publishes up to `batchSize` due timers. Exposed for tests. */
  async fireDueTimeouts(now: Date = new Date()): Promise<DueTimeout[]> {
    const due = await claimDueTimeouts(this.pool, now, this.settings.requestQuietMs, this.settings.batchSize);
    if (due.length === 0) return due;
    await this.publisher.publish(due.map((timeout) => firePaymentTimeoutEnvelope(timeout, now)));
    this.logger.info({ timeouts: due.length }, 'payment timers fired');
    return due;
  }
}

function firePaymentTimeoutEnvelope(timeout: DueTimeout, now: Date): ContractEnvelope {
  // A fresh id each time: a timer published again (its first publication was not handled) must reach
  // the handler, not be absorbed by the inbox; handling one twice is harmless (see above).
  const id = randomUUID();
  return {
    id,
    type: 'FirePaymentTimeout',
    schemaVersion: contractFor('FirePaymentTimeout').schemaVersion,
    data: { paymentId: timeout.paymentId, wait: timeout.wait, deadlineId: timeout.deadlineId, attempt: timeout.attempt, dueAt: timeout.dueAt },
    metadata: { correlationId: timeout.correlationId, causationId: id, occurredAt: now.toISOString(), producer: 'payments' },
  };
}
