import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min } from 'class-validator';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './webhook-events.js';

export const MAX_WEBHOOK_URL_LENGTH = 2048;
export const MAX_DELIVERY_PAGE_LIMIT = 100;
const CURSOR = /^[A-Za-z0-9_-]{1,200}$/;

/** POST /v1/webhooks. Unknown fields are refused (the global ValidationPipe forbids them). */
export class CreateWebhookSubscriptionRequest {
  @ApiProperty({ type: String, format: 'uri', maxLength: MAX_WEBHOOK_URL_LENGTH, example: 'https://channel.example.com/clearline/webhooks', description: 'An absolute https (or http) URL, without user name or password' })
  @IsString()
  @MaxLength(MAX_WEBHOOK_URL_LENGTH)
  @IsUrl({ protocols: ['https', 'http'], require_protocol: true, require_tld: false, disallow_auth: true }, { message: 'url must be an absolute https or http URL without credentials' })
  url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, minItems: 1, maxItems: WEBHOOK_EVENT_TYPES.length, example: ['PaymentAuthorized', 'PaymentCaptured', 'PaymentDeclined'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: `each of eventTypes must be one of: ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  eventTypes!: WebhookEventType[];
}

export class DeliveryPageQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_DELIVERY_PAGE_LIMIT, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1)
  @Max(MAX_DELIVERY_PAGE_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ type: String, description: "An opaque cursor: the previous page's nextCursor" })
  @IsOptional()
  @Matches(CURSOR, { message: "cursor must be a previous page's nextCursor" })
  cursor?: string;
}

const INSTANT = { type: String, format: 'date-time' } as const;

export class WebhookSubscriptionView {
  @ApiProperty({ type: String, format: 'uuid' })
  subscriptionId!: string;

  @ApiProperty({ type: String, description: 'The client (channel) that owns it' })
  client!: string;

  @ApiProperty({ type: String, format: 'uri' })
  url!: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true })
  eventTypes!: string[];

  @ApiProperty(INSTANT)
  createdAt!: string;
}

export class CreatedWebhookSubscriptionView extends WebhookSubscriptionView {
  @ApiProperty({ type: String, description: 'The signing secret (whsec_...): shown in this answer only (and in its idempotent replay). Keep it secret.' })
  secret!: string;
}

export class WebhookSubscriptionListView {
  @ApiProperty({ type: [WebhookSubscriptionView] })
  items!: WebhookSubscriptionView[];
}

export class DeliveryAttemptView {
  @ApiProperty({ type: 'integer' }) attempt!: number;
  @ApiProperty(INSTANT) startedAt!: string;
  @ApiProperty({ type: 'integer' }) durationMs!: number;
  @ApiProperty({ type: 'integer', nullable: true, description: "The receiver's HTTP status; null without an answer" }) statusCode!: number | null;
  @ApiProperty({ type: String, nullable: true, example: 'http_500', description: 'http_<status>, timeout_<ms>ms or network_error_<code>' }) error!: string | null;
  @ApiProperty({ type: Boolean }) succeeded!: boolean;
}

export class DeliveryView {
  @ApiProperty({ type: String, format: 'uuid' }) deliveryId!: string;
  @ApiProperty({ type: String, format: 'uuid' }) subscriptionId!: string;
  @ApiProperty({ type: String, format: 'uuid' }) eventId!: string;
  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES }) eventType!: string;
  @ApiProperty({ enum: ['pending', 'succeeded', 'failed'] }) status!: string;
  @ApiProperty({ type: 'integer' }) attemptCount!: number;
  @ApiProperty({ ...INSTANT, nullable: true, description: 'When the next attempt is due; null once succeeded or failed' }) nextAttemptAt!: string | null;
  @ApiProperty({ ...INSTANT, description: 'Retries stop after this' }) giveUpAt!: string;
  @ApiProperty({ type: 'integer', nullable: true }) lastStatusCode!: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  @ApiProperty(INSTANT) createdAt!: string;
  @ApiProperty({ ...INSTANT, nullable: true }) completedAt!: string | null;
  @ApiProperty({ type: [DeliveryAttemptView], description: 'The latest 50 attempts, newest first' }) attempts!: DeliveryAttemptView[];
}

export class DeliveryPageView {
  @ApiProperty({ type: [DeliveryView] })
  items!: DeliveryView[];

  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next (older) page; null on the last page' })
  nextCursor!: string | null;
}

export class RedeliveryAcceptedView {
  @ApiProperty({ type: String, format: 'uuid' }) deliveryId!: string;
  @ApiProperty({ enum: ['pending'] }) status!: 'pending';
  @ApiProperty({ type: String }) correlationId!: string;
}
