// Prometheus metrics of webhook delivery, on the gateway's registry (GET /metrics).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export const WebhookMetricNames = {
  deliveries: 'clearline_webhook_deliveries_total',
  pending: 'clearline_webhook_deliveries_pending',
  attempts: 'clearline_webhook_attempts_total',
  attemptDuration: 'clearline_webhook_attempt_duration_seconds',
} as const;

/** How an attempt ended: labels of a small, fixed set (never a URL or a receiver's status text). */
export type AttemptResult = 'succeeded' | 'http_error' | 'timeout' | 'network_error';

export interface WebhookMetrics {
  attempt(result: AttemptResult, durationMs: number): void;
  /** A delivery reached its end: delivered, or given up after its retry window. */
  delivery(outcome: 'succeeded' | 'failed'): void;
  pending(count: number): void;
}

const byRegistry = new WeakMap<Registry, WebhookMetrics>();

/** The webhook metrics of one registry, made on first use and shared by every app of the process (tests start several). */
export function webhookMetrics(registry: Registry): WebhookMetrics {
  const known = byRegistry.get(registry);
  if (known) return known;
  const deliveries = new Counter({
    name: WebhookMetricNames.deliveries, help: 'Webhook deliveries that ended: succeeded (a 2xx answer) or failed (no 2xx within the retry window).',
    labelNames: ['outcome'], registers: [registry],
  });
  const pending = new Gauge({ name: WebhookMetricNames.pending, help: 'Webhook deliveries waiting for their next attempt (as of the last dispatcher pass).', registers: [registry] });
  const attempts = new Counter({ name: WebhookMetricNames.attempts, help: 'Webhook delivery attempts by result.', labelNames: ['result'], registers: [registry] });
  const attemptDuration = new Histogram({
    name: WebhookMetricNames.attemptDuration, help: "Time of one webhook attempt, up to the receiver's answer or the timeout.",
    labelNames: ['result'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry],
  });
  const metrics: WebhookMetrics = {
    attempt: (result, durationMs) => {
      attempts.inc({ result });
      attemptDuration.observe({ result }, durationMs / 1000);
    },
    delivery: (outcome) => deliveries.inc({ outcome }),
    pending: (count) => pending.set(count),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
