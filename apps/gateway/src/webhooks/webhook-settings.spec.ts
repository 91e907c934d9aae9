// Proves the webhook settings: production defaults, overrides, and a bad value stopping the gateway
// with a message naming the variable.
import { webhookSettingsFrom } from './webhook-settings.js';

describe('webhook settings', () => {
  it('default to one shared group, the gateway schema, 30 s to 1 h backoff for 24 h, 10 s timeouts, public targets only', () => {
    expect(webhookSettingsFrom({})).toEqual({
      schema: 'gateway', consumerGroup: 'gateway-webhooks',
      retry: { backoff: { initialMs: 30_000, maxMs: 3_600_000 }, windowMs: 86_400_000 },
      attemptTimeoutMs: 10_000, pollIntervalMs: 1_000, batchSize: 20, maxSubscriptionsPerClient: 20, privateTargets: 'refuse',
    });
    expect(webhookSettingsFrom({ GATEWAY_WEBHOOK_PRIVATE_TARGETS: 'allow' }).privateTargets).toBe('allow');
  });

  it('takes a short schedule (as the integration test does)', () => {
    const settings = webhookSettingsFrom({ GATEWAY_WEBHOOK_RETRY_BASE_MS: '200', GATEWAY_WEBHOOK_RETRY_MAX_MS: '1000', GATEWAY_WEBHOOKS_SCHEMA: 'gateway_test_1' });
    expect(settings.retry.backoff).toEqual({ initialMs: 200, maxMs: 1_000 });
    expect(settings.schema).toBe('gateway_test_1');
  });

  it.each([
    [{ GATEWAY_WEBHOOK_RETRY_BASE_MS: 'soon' }, /GATEWAY_WEBHOOK_RETRY_BASE_MS/],
    [{ GATEWAY_WEBHOOK_RETRY_BASE_MS: '5000', GATEWAY_WEBHOOK_RETRY_MAX_MS: '1000' }, /GATEWAY_WEBHOOK_RETRY_MAX_MS/],
    [{ GATEWAY_WEBHOOK_TIMEOUT_MS: '0' }, /GATEWAY_WEBHOOK_TIMEOUT_MS/],
    [{ GATEWAY_WEBHOOKS_SCHEMA: 'gateway"; drop' }, /GATEWAY_WEBHOOKS_SCHEMA/],
    [{ GATEWAY_WEBHOOKS_CONSUMER_GROUP: 'a group' }, /GATEWAY_WEBHOOKS_CONSUMER_GROUP/],
    [{ GATEWAY_WEBHOOK_PRIVATE_TARGETS: 'yes' }, /GATEWAY_WEBHOOK_PRIVATE_TARGETS must be 'refuse'.*or 'allow'/],
  ])('refuses %j', (environment, message) => {
    expect(() => webhookSettingsFrom(environment)).toThrow(message);
  });
});
