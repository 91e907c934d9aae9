import { Body, Controller, Delete, Get, HttpCode, Inject, Injectable, Param, Post, Query, Req, Res, type PipeTransform } from '@nestjs/common';
import { canonicalJson, isUuid } from '@clearline/contracts';
import { ProblemException } from '@clearline/service-runtime';
import { ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { createHash, randomUUID } from 'node:crypto';
import { ApiProblems, IdempotentCommand } from '../api-docs.decorators.js';
import { authenticatedClientOf, type AuthenticatedClient } from '../authenticated-client.js';
import { correlationIdOf } from '../correlation.middleware.js';
import { IDEMPOTENCY_HEADER } from '../idempotency.interceptor.js';
import { ObjectAccess } from '../object-ownership.js';
import { cursorOf, positionOf } from './delivery-cursor.js';
import { giveUpAtFor } from './webhook-retry-schedule.js';
import {
  CreatedWebhookSubscriptionView, CreateWebhookSubscriptionRequest, DeliveryPageQuery, DeliveryPageView, RedeliveryAcceptedView,
  WebhookSubscriptionListView, WebhookSubscriptionView,
} from './webhook-requests.dto.js';
import { decryptWebhookSecret, encryptWebhookSecret, newWebhookSecret, type WebhookSecretsKey } from './webhook-secrets.js';
import type { WebhookSettings } from './webhook-settings.js';
import { webhookUrlRefusal } from './webhook-targets.js';
import { WebhooksRepository, type SubscriptionRecord } from './webhooks.repository.js';
import { WEBHOOK_SECRETS_KEY, WEBHOOK_SETTINGS } from './webhooks.tokens.js';

/** The idempotency interceptor's rule for a key (idempotency.interceptor.ts). */
const ACCEPTABLE_KEY = /^[\x21-\x7e]{1,255}$/;
const DEFAULT_PAGE_LIMIT = 20;
/** An analyst's list of every client's subscriptions is cut here (a channel holds at most 20). */
const MAX_LISTED = 500;

/** A subscription or delivery id in the path: a uuid, else a 400 that does not echo the value. */
@Injectable()
export class WebhookIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const id = value.toLowerCase();
    if (!isUuid(id)) throw new ProblemException(400, 'invalid-webhook-id', 'Invalid id', 'The id in the path must be a uuid.');
    return id;
  }
}

const subscriptionNotFound = (id: string) => new ProblemException(404, 'webhook-subscription-not-found', 'Webhook subscription not found', `no webhook subscription ${id}`);
const deliveryNotFound = (id: string) => new ProblemException(404, 'webhook-delivery-not-found', 'Webhook delivery not found', `no webhook delivery ${id}`);

const viewOf = (subscription: SubscriptionRecord): WebhookSubscriptionView => ({
  subscriptionId: subscription.subscriptionId, client: subscription.client, url: subscription.url, eventTypes: subscription.eventTypes, createdAt: subscription.createdAt.toISOString(),
});

/**
 * Signed webhooks (docs/webhooks.md). A channel manages its own subscriptions only: another
 * client's is a 404, the same answer as one that does not exist. Analysts read every client's and
 * change nothing (403, from the ObjectAccessGuard).
 */
@ApiTags('webhooks')
@Controller('v1/webhooks')
@ObjectAccess()
export class WebhooksController {
  constructor(
    private readonly repository: WebhooksRepository,
    @Inject(WEBHOOK_SETTINGS) private readonly settings: WebhookSettings,
    @Inject(WEBHOOK_SECRETS_KEY) private readonly secretsKey: WebhookSecretsKey,
  ) {}

  /**
   * Idempotent like every POST, but in PostgreSQL rather than through the IdempotencyInterceptor:
   * the answer holds the signing secret, which the interceptor would keep in plain text in Redis.
   * A replay decrypts the stored secret and answers the same.
   */
  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Subscribe a URL to events of your payments',
    description: 'Events of the payments this client created are POSTed to the URL, signed with the secret in this answer (shown here only; a retry with the same Idempotency-Key and body answers it again). At most 20 active subscriptions per client.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: true, description: '1-255 printable ASCII characters; a retry with the same key and body gets the first answer' })
  @ApiCreatedResponse({ type: CreatedWebhookSubscriptionView })
  @ApiProblems([400, 'Invalid body or Idempotency-Key'], [409, 'webhook-subscription-limit: this client already has 20 active subscriptions'], [422, 'webhook-url-not-allowed: the host is a private, loopback or link-local address or a localhost name; or the Idempotency-Key was used with another request'])
  async create(@Body() body: CreateWebhookSubscriptionRequest, @Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<CreatedWebhookSubscriptionView> {
    const idempotencyKey = idempotencyKeyOf(request);
    const refusal = webhookUrlRefusal(body.url, this.settings.privateTargets);
    if (refusal !== undefined) {
      throw new ProblemException(422, 'webhook-url-not-allowed', 'Webhook URL not allowed', `Webhooks are sent to public internet addresses only: ${refusal}.`);
    }
    const { client } = authenticatedClientOf(request);
    const requestHash = createHash('sha256').update(canonicalJson({ url: body.url, eventTypes: body.eventTypes })).digest('hex');
    const subscriptionId = randomUUID();
    const secret = newWebhookSecret();
    const outcome = await this.repository.createSubscription({
      subscriptionId, client, url: body.url, eventTypes: [...body.eventTypes], secretCiphertext: encryptWebhookSecret(secret, subscriptionId, this.secretsKey.key), idempotencyKey, requestHash,
    }, this.settings.maxSubscriptionsPerClient);
    switch (outcome.outcome) {
      case 'created':
        return { ...viewOf(outcome.subscription), secret };
      case 'replayed':
        if (outcome.requestHash !== requestHash) {
          throw new ProblemException(422, 'idempotency-key-reused', 'Idempotency-Key reused with a different request', 'This key was already used for a request with another body; use a new key for a new request.');
        }
        response.setHeader('idempotent-replayed', 'true');
        return { ...viewOf(outcome.subscription), secret: decryptWebhookSecret(outcome.subscription.secretCiphertext, outcome.subscription.subscriptionId, this.secretsKey.key) };
      case 'limit_reached':
        throw new ProblemException(409, 'webhook-subscription-limit', 'Too many webhook subscriptions', `A client may hold ${this.settings.maxSubscriptionsPerClient} active subscriptions; delete one first.`);
      default: {
        const unreachable: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
      }
    }
  }

  @Get()
  @ApiOperation({ summary: "Your active webhook subscriptions (an analyst: every client's, newest first, up to 500)" })
  @ApiOkResponse({ type: WebhookSubscriptionListView })
  async list(@Req() request: Request): Promise<WebhookSubscriptionListView> {
    const subscriptions = await this.repository.listSubscriptions(visibleClientOf(authenticatedClientOf(request)), MAX_LISTED);
    return { items: subscriptions.map(viewOf) };
  }

  @Get(':subscriptionId')
  @ApiOperation({ summary: 'One of your webhook subscriptions (never its secret)' })
  @ApiParam({ name: 'subscriptionId', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ type: WebhookSubscriptionView })
  @ApiProblems([400, 'The id is not a uuid'], [404, 'No such subscription of yours'])
  async get(@Param('subscriptionId', WebhookIdPipe) subscriptionId: string, @Req() request: Request): Promise<WebhookSubscriptionView> {
    return viewOf(await this.visibleSubscription(subscriptionId, request));
  }

  @Delete(':subscriptionId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook subscription', description: 'Nothing more is delivered to it; its pending deliveries fail with lastError subscription_deleted.' })
  @ApiParam({ name: 'subscriptionId', schema: { type: 'string', format: 'uuid' } })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems([400, 'The id is not a uuid'], [404, 'No such subscription of yours'])
  async delete(@Param('subscriptionId', WebhookIdPipe) subscriptionId: string, @Req() request: Request): Promise<void> {
    if (!(await this.repository.deleteSubscription(subscriptionId, authenticatedClientOf(request).client, new Date()))) throw subscriptionNotFound(subscriptionId);
  }

  @Get(':subscriptionId/deliveries')
  @ApiOperation({ summary: "A subscription's delivery log, newest first: status, attempts with status codes, next attempt time" })
  @ApiParam({ name: 'subscriptionId', schema: { type: 'string', format: 'uuid' } })
  @ApiOkResponse({ type: DeliveryPageView })
  @ApiProblems([400, 'The id, limit or cursor is invalid'], [404, 'No such subscription of yours'])
  async deliveries(@Param('subscriptionId', WebhookIdPipe) subscriptionId: string, @Query() query: DeliveryPageQuery, @Req() request: Request): Promise<DeliveryPageView> {
    await this.visibleSubscription(subscriptionId, request);
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const items = await this.repository.deliveryPage(subscriptionId, query.cursor === undefined ? undefined : positionOf(query.cursor), limit);
    const last = items.at(-1);
    return { items, nextCursor: items.length === limit && last !== undefined ? cursorOf({ createdAt: last.createdAt, deliveryId: last.deliveryId }) : null };
  }

  @Post('deliveries/:deliveryId/redeliver')
  @IdempotentCommand()
  @ApiOperation({
    summary: 'Send a delivery again now',
    description: 'Whatever its state (succeeded, failed or still pending), the delivery is due at once and gets a fresh 24-hour retry window; its attempts go on in the same log.',
  })
  @ApiParam({ name: 'deliveryId', schema: { type: 'string', format: 'uuid' } })
  @ApiResponse({ status: 202, type: RedeliveryAcceptedView })
  @ApiProblems([404, 'No such delivery of yours'])
  async redeliver(@Param('deliveryId', WebhookIdPipe) deliveryId: string, @Req() request: Request): Promise<RedeliveryAcceptedView> {
    const now = new Date();
    if (!(await this.repository.redeliver(deliveryId, authenticatedClientOf(request).client, now, giveUpAtFor(now, this.settings.retry)))) throw deliveryNotFound(deliveryId);
    return { deliveryId, status: 'pending', correlationId: correlationIdOf(request) };
  }

  private async visibleSubscription(subscriptionId: string, request: Request): Promise<SubscriptionRecord> {
    const subscription = await this.repository.findSubscription(subscriptionId, visibleClientOf(authenticatedClientOf(request)));
    if (subscription === undefined) throw subscriptionNotFound(subscriptionId);
    return subscription;
  }
}

/** Whose subscriptions a client reads: a channel its own, an analyst everyone's (undefined). */
function visibleClientOf(client: AuthenticatedClient): string | undefined {
  return client.role === 'analyst' ? undefined : client.client;
}

function idempotencyKeyOf(request: Request): string {
  const key = request.header(IDEMPOTENCY_HEADER);
  if (!key) throw new ProblemException(400, 'idempotency-key-missing', 'Idempotency-Key header required', 'Every POST needs an Idempotency-Key header (for example a uuid) so that a retry cannot act twice.');
  if (!ACCEPTABLE_KEY.test(key)) throw new ProblemException(400, 'idempotency-key-invalid', 'Invalid Idempotency-Key', 'The key must be 1-255 printable ASCII characters.');
  return key;
}
