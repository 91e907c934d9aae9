import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, PeriodicTask, type Logger } from '@clearline/service-runtime';
import { Registry } from 'prom-client';
import { afterFailedAttempt } from './webhook-retry-schedule.js';
import { decryptWebhookSecret, type WebhookSecretsKey } from './webhook-secrets.js';
import { sendWebhook, type AttemptOutcome } from './webhook-sender.js';
import type { WebhookSettings } from './webhook-settings.js';
import { webhookMetrics, type WebhookMetrics } from './webhooks.metrics.js';
import { WebhooksRepository, type ClaimedDelivery, type DeliveryTransition } from './webhooks.repository.js';
import { WEBHOOK_SECRETS_KEY, WEBHOOK_SETTINGS } from './webhooks.tokens.js';

/** Beyond the attempt's timeout, time to record it before another instance may take the delivery again. */
const LEASE_MARGIN_MS = 30_000;

/**
 * Sends due deliveries. Every `pollIntervalMs` (after the previous pass ended) it claims up to
 * `batchSize` of them with FOR UPDATE SKIP LOCKED, so instances share the work without sending one
 * twice, and sends them at once, with no transaction open while a receiver answers. Each attempt is
 * logged; a failed one is retried on the backoff schedule until the retry window ends, then the
 * delivery is failed. At least once: an instance that dies mid-attempt leaves the delivery leased,
 * and it is sent again when the lease ends (receivers de-duplicate by the Clearline-Event-Id header).
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly metrics: WebhookMetrics;
  private readonly task: PeriodicTask;

  constructor(
    private readonly repository: WebhooksRepository,
    @Inject(WEBHOOK_SETTINGS) private readonly settings: WebhookSettings,
    @Inject(WEBHOOK_SECRETS_KEY) private readonly secretsKey: WebhookSecretsKey,
    @Inject(LOGGER) private readonly logger: Logger,
    registry: Registry,
  ) {
    this.metrics = webhookMetrics(registry);
    this.task = new PeriodicTask({ intervalMs: settings.pollIntervalMs, pass: () => this.dispatchDue(), logger, failureMessage: 'webhook dispatch pass failed; trying again' });
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** One pass: claims, sends and records up to batchSize deliveries; returns how many. */
  async dispatchDue(now: Date = new Date()): Promise<number> {
    const claimed = await this.repository.claimDueDeliveries(now, this.settings.attemptTimeoutMs + LEASE_MARGIN_MS, this.settings.batchSize);
    await Promise.all(claimed.map((delivery) => this.attempt(delivery)));
    this.metrics.pending(await this.repository.pendingCount());
    return claimed.length;
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const log = { deliveryId: delivery.deliveryId, subscriptionId: delivery.subscriptionId, eventId: delivery.eventId, eventType: delivery.eventType };
    const outcome = await this.send(delivery);
    this.metrics.attempt(outcome.result, outcome.durationMs);
    const transition = this.transitionAfter(delivery, outcome);
    try {
      const attempt = await this.repository.recordAttempt(delivery.deliveryId, {
        startedAt: outcome.startedAt, durationMs: outcome.durationMs, statusCode: outcome.statusCode, error: outcome.error, succeeded: outcome.result === 'succeeded',
      }, transition, new Date());
      if (transition.status !== 'pending') this.metrics.delivery(transition.status);
      const level = transition.status === 'failed' ? 'warn' : 'info';
      this.logger[level]({ ...log, attempt, result: outcome.result, statusCode: outcome.statusCode, durationMs: outcome.durationMs, status: transition.status }, 'webhook attempt');
    } catch (error) {
      // The lease runs out and the delivery is sent again: at least once.
      this.logger.error({ ...log, err: error }, 'webhook attempt not recorded; it is sent again when its lease ends');
    }
  }

  private async send(delivery: ClaimedDelivery): Promise<AttemptOutcome> {
    let secret: string;
    try {
      secret = decryptWebhookSecret(delivery.secretCiphertext, delivery.subscriptionId, this.secretsKey.key);
    } catch (error) {
      // A wrong GATEWAY_CHANNEL_SECRETS_KEY: logged (without any key material), retried like a failed attempt.
      this.logger.error({ deliveryId: delivery.deliveryId, err: error }, 'webhook secret does not decrypt');
      return { result: 'network_error', statusCode: null, error: 'secret_unavailable', startedAt: new Date(), durationMs: 0 };
    }
    return sendWebhook({ url: delivery.url, secret, payload: delivery.payload, deliveryId: delivery.deliveryId, eventId: delivery.eventId, eventType: delivery.eventType }, this.settings.attemptTimeoutMs, this.settings.privateTargets);
  }

  private transitionAfter(delivery: ClaimedDelivery, outcome: AttemptOutcome): DeliveryTransition {
    if (outcome.result === 'succeeded') return { status: 'succeeded' };
    const next = afterFailedAttempt(delivery.attemptsThisRound + 1, new Date(), delivery.giveUpAt, this.settings.retry);
    return next.outcome === 'retry' ? { status: 'pending', nextAttemptAt: next.nextAttemptAt } : { status: 'failed' };
  }
}
