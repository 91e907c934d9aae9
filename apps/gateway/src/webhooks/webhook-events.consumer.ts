import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { deriveMessageId, Topics, type ContractEnvelope } from '@clearline/contracts';
import { MessageConsumer, MessagingInfrastructureError, type MessageContext } from '@clearline/messaging';
import { kafkaSettingsOf, LOGGER, SERVICE_CONFIG, type Logger, type ServiceConfig } from '@clearline/service-runtime';
import type { Pool } from 'pg';
import { Registry } from 'prom-client';
import { OwnershipRegistry } from '../object-ownership.js';
import { matchingSubscriptions, paymentIdOfWebhookEvent, webhookPayloadOf } from './webhook-events.js';
import { giveUpAtFor } from './webhook-retry-schedule.js';
import type { WebhookSettings } from './webhook-settings.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { WEBHOOK_POOL, WEBHOOK_SETTINGS } from './webhooks.tokens.js';

/**
 * Turns payment and settlement events into deliveries. Every gateway instance joins one consumer
 * group, so each event is handled once across instances; the inbox (libs/messaging) drops an event
 * that arrives again, and the deliveries are written in the inbox's own transaction, so an event
 * is either recorded with all its deliveries or handled again. The owner of an event is the client
 * that created its payment (OwnershipRegistry, claimed before the payment's first command was sent).
 */
@Injectable()
export class WebhookEventsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumer: MessageConsumer;
  private started: Promise<void> = Promise.resolve();

  constructor(
    private readonly repository: WebhooksRepository,
    private readonly ownership: OwnershipRegistry,
    @Inject(WEBHOOK_POOL) pool: Pool,
    @Inject(WEBHOOK_SETTINGS) private readonly settings: WebhookSettings,
    @Inject(SERVICE_CONFIG) config: ServiceConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    metrics: Registry,
  ) {
    this.consumer = new MessageConsumer({
      settings: kafkaSettingsOf(config),
      groupId: settings.consumerGroup,
      topics: [Topics.paymentsEvents, Topics.settlementEvents],
      pool,
      logger,
      metrics,
      handle: (envelope, context) => this.handle(envelope, context),
    });
  }

  /**
   * Joins the shared group in the background: the gateway answers HTTP without it. After a crash the
   * join waits for the dead member's session to time out (30 s); the edge must not be down that long.
   */
  onApplicationBootstrap(): void {
    this.started = this.consumer.start().catch((error: unknown) => {
      this.logger.error({ err: error }, 'webhook events consumer did not start; no deliveries are recorded until the gateway restarts');
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.started;
    await this.consumer.stop();
  }

  private async handle(envelope: ContractEnvelope, context: MessageContext): Promise<void> {
    const paymentId = paymentIdOfWebhookEvent(envelope);
    if (paymentId === undefined) return;
    const owner = await this.ownerOf(paymentId);
    // A payment no client created through this gateway (a channel on Kafka directly) has no webhooks.
    if (owner === null) return;
    const subscriptions = matchingSubscriptions(await this.repository.activeSubscriptionsOf(context.client, owner), owner, envelope.type);
    if (subscriptions.length === 0) return;
    const now = new Date();
    const payload = webhookPayloadOf(envelope);
    const inserted = await this.repository.insertDeliveries(context.client, subscriptions.map((subscription) => ({
      deliveryId: deriveMessageId(envelope.id, `webhook:${subscription.subscriptionId}`),
      subscriptionId: subscription.subscriptionId,
      eventId: envelope.id,
      eventType: envelope.type,
      payload,
      giveUpAt: giveUpAtFor(now, this.settings.retry),
    })), now);
    context.logger.debug({ paymentId, deliveries: inserted }, 'webhook deliveries recorded');
  }

  /** Redis being away is no fault of the event: it is handled again later, never dead-lettered. */
  private async ownerOf(paymentId: string): Promise<string | null> {
    try {
      return await this.ownership.ownerOf('payment', paymentId);
    } catch (error) {
      throw new MessagingInfrastructureError(`the payment's owner could not be read from Redis: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}
