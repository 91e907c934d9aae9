import { ConfigurationError, integerSetting } from '@clearline/service-runtime';
import { DEFAULT_RETRY_SCHEDULE, type RetrySchedule } from './webhook-retry-schedule.js';
import type { PrivateTargets } from './webhook-targets.js';

export interface WebhookSettings {
  /** The PostgreSQL schema of the webhook tables (a throw-away one per integration test run). */
  schema: string;
  /** One consumer group for every gateway instance, so each event makes one delivery per subscription. */
  consumerGroup: string;
  retry: RetrySchedule;
  /** One attempt waits this long for the receiver's answer. */
  attemptTimeoutMs: number;
  /** Pause between dispatcher passes. */
  pollIntervalMs: number;
  /** Deliveries one pass claims (and sends at once), at most. */
  batchSize: number;
  /** Active subscriptions a client may hold. */
  maxSubscriptionsPerClient: number;
  /** 'refuse' (default): webhooks reach public addresses only (webhook-targets.ts); 'allow': any, for development. */
  privateTargets: PrivateTargets;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const GROUP_ID = /^[A-Za-z0-9._-]{1,200}$/;

/** Read once when the webhooks module starts; a bad value stops the gateway naming the variable. */
export function webhookSettingsFrom(environment: NodeJS.ProcessEnv): WebhookSettings {
  const schema = environment['GATEWAY_WEBHOOKS_SCHEMA'] || 'gateway';
  if (!SCHEMA_NAME.test(schema)) throw new ConfigurationError(`GATEWAY_WEBHOOKS_SCHEMA must match ${SCHEMA_NAME}, got '${schema}'`);
  const consumerGroup = environment['GATEWAY_WEBHOOKS_CONSUMER_GROUP'] || 'gateway-webhooks';
  if (!GROUP_ID.test(consumerGroup)) throw new ConfigurationError(`GATEWAY_WEBHOOKS_CONSUMER_GROUP must match ${GROUP_ID}`);
  const initialMs = integerSetting(environment, 'GATEWAY_WEBHOOK_RETRY_BASE_MS', DEFAULT_RETRY_SCHEDULE.backoff.initialMs, 10, 3_600_000);
  const maxMs = integerSetting(environment, 'GATEWAY_WEBHOOK_RETRY_MAX_MS', DEFAULT_RETRY_SCHEDULE.backoff.maxMs, 10, 24 * 3_600_000);
  if (maxMs < initialMs) throw new ConfigurationError('GATEWAY_WEBHOOK_RETRY_MAX_MS must be at least GATEWAY_WEBHOOK_RETRY_BASE_MS');
  const privateTargets = environment['GATEWAY_WEBHOOK_PRIVATE_TARGETS'] || 'refuse';
  if (privateTargets !== 'refuse' && privateTargets !== 'allow') {
    throw new ConfigurationError(`GATEWAY_WEBHOOK_PRIVATE_TARGETS must be 'refuse' (the default: public addresses only) or 'allow' (development), got '${privateTargets}'`);
  }
  return {
    schema,
    consumerGroup,
    retry: { backoff: { initialMs, maxMs }, windowMs: integerSetting(environment, 'GATEWAY_WEBHOOK_RETRY_WINDOW_MS', DEFAULT_RETRY_SCHEDULE.windowMs, 1_000, 7 * 24 * 3_600_000) },
    attemptTimeoutMs: integerSetting(environment, 'GATEWAY_WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
    pollIntervalMs: integerSetting(environment, 'GATEWAY_WEBHOOK_POLL_INTERVAL_MS', 1_000, 10, 60_000),
    batchSize: integerSetting(environment, 'GATEWAY_WEBHOOK_BATCH_SIZE', 20, 1, 200),
    maxSubscriptionsPerClient: 20,
    privateTargets,
  };
}
