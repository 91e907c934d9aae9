// Proves the messaging metrics are created once per registry and shared, so several publishers and
// consumers in one process can use one registry; that a same-named metric of another type fails; and
// how consumer lag is computed from a batch's high watermark.
import { Counter, Gauge, Registry } from 'prom-client';
import { lagAfter, MetricNames, messagingMetrics } from './messaging.metrics.js';

describe('messagingMetrics', () => {
  it('returns the same metrics for the same registry and registers each name once', async () => {
    const registry = new Registry();
    const first = messagingMetrics(registry);
    const second = messagingMetrics(registry);
    expect(second).toBe(first);
    first.published.inc({ topic: 't' }, 2);
    const names = (await registry.getMetricsAsJSON()).map((metric) => metric.name).sort();
    expect(names).toEqual(Object.values(MetricNames).sort());
  });

  it('keeps registries apart', async () => {
    const one = new Registry();
    const two = new Registry();
    messagingMetrics(one).published.inc({ topic: 't' });
    expect((await two.getSingleMetricAsString(MetricNames.published).catch(() => ''))).not.toContain('topic="t"');
    expect(messagingMetrics(two)).not.toBe(messagingMetrics(one));
  });

  it('reuses a metric registered under the same name by someone else', () => {
    const registry = new Registry();
    const earlier = new Counter({ name: MetricNames.published, help: 'earlier', labelNames: ['topic'], registers: [registry] });
    expect(messagingMetrics(registry).published).toBe(earlier);
  });

  it('refuses a same-named metric of another type', () => {
    const registry = new Registry();
    new Gauge({ name: MetricNames.published, help: 'wrong type', registers: [registry] });
    expect(() => messagingMetrics(registry)).toThrow(/already registered with another type/);
  });
});

describe('lagAfter', () => {
  it('counts the messages after an offset up to the high watermark, never below zero', () => {
    expect(lagAfter('10', '3')).toBe(6);
    expect(lagAfter('10', '9')).toBe(0);
    expect(lagAfter('10', '12')).toBe(0);
    expect(lagAfter('9007199254740993', '0')).toBe(9007199254740992);
  });
});
