// Proves the webhook metrics: their names and labels on the registry, and one set per registry
// however many gateway apps a process starts.
import { Registry } from 'prom-client';
import { webhookMetrics, WebhookMetricNames } from './webhooks.metrics.js';

describe('webhook metrics', () => {
  it('counts attempts by result with their duration, ended deliveries by outcome, and the pending ones', async () => {
    const registry = new Registry();
    const metrics = webhookMetrics(registry);
    metrics.attempt('http_error', 120);
    metrics.attempt('succeeded', 30);
    metrics.delivery('succeeded');
    metrics.pending(7);
    const text = await registry.metrics();
    expect(text).toContain(`${WebhookMetricNames.attempts}{result="http_error"} 1`);
    expect(text).toContain(`${WebhookMetricNames.attemptDuration}_count{result="succeeded"} 1`);
    expect(text).toContain(`${WebhookMetricNames.deliveries}{outcome="succeeded"} 1`);
    expect(text).toContain(`${WebhookMetricNames.pending} 7`);
  });

  it('registers once per registry', () => {
    const registry = new Registry();
    expect(webhookMetrics(registry)).toBe(webhookMetrics(registry));
  });
});
