import { Counter, Gauge, Histogram, register as globalRegistry, type Metric, type Registry } from 'prom-client';

export type ConsumeOutcome = 'handled' | 'duplicate' | 'dead_lettered';

export interface MessagingMetrics {
  published: Counter<'topic'>;
  consumed: Counter<'topic' | 'group' | 'outcome'>;
  handlerRetries: Counter<'topic' | 'group'>;
  handleDuration: Histogram<'topic' | 'group'>;
  consumerLag: Gauge<'topic' | 'partition' | 'group'>;
}

export const MetricNames = {
  published: 'clearline_messages_published_total',
  consumed: 'clearline_messages_consumed_total',
  handlerRetries: 'clearline_message_handler_retries_total',
  handleDuration: 'clearline_message_handle_duration_seconds',
  consumerLag: 'clearline_consumer_lag',
} as const;

const byRegistry = new WeakMap<Registry, MessagingMetrics>();

/**
 * The messaging metrics of one registry, created on first use and shared by every publisher and
 * consumer of the process that uses that registry. A metric another module already registered under
 * the same name is reused when it has the same type, and is a programming error when it has not.
 */
export function messagingMetrics(registry: Registry = globalRegistry): MessagingMetrics {
  const known = byRegistry.get(registry);
  if (known) return known;
  const metrics: MessagingMetrics = {
    published: existing(registry, MetricNames.published, Counter) ??
      new Counter({ name: MetricNames.published, help: 'Messages acknowledged by Kafka, by topic.', labelNames: ['topic'], registers: [registry] }),
    consumed: existing(registry, MetricNames.consumed, Counter) ??
      new Counter({
        name: MetricNames.consumed,
        help: 'Messages consumed, by outcome: handled, duplicate (already in the inbox) or dead_lettered.',
        labelNames: ['topic', 'group', 'outcome'],
        registers: [registry],
      }),
    handlerRetries: existing(registry, MetricNames.handlerRetries, Counter) ??
      new Counter({ name: MetricNames.handlerRetries, help: 'Handler attempts that failed and were retried.', labelNames: ['topic', 'group'], registers: [registry] }),
    handleDuration: existing(registry, MetricNames.handleDuration, Histogram) ??
      new Histogram({
        name: MetricNames.handleDuration,
        help: 'Time to process one message: inbox check, handler, commit, retries and dead-lettering included.',
        labelNames: ['topic', 'group'],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      }),
    consumerLag: existing(registry, MetricNames.consumerLag, Gauge) ??
      new Gauge({
        name: MetricNames.consumerLag,
        help: 'Messages behind the partition high watermark after the last processed message.',
        labelNames: ['topic', 'partition', 'group'],
        registers: [registry],
      }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function existing<M extends Metric>(registry: Registry, name: string, kind: abstract new (...args: any[]) => M): M | undefined {
  const found = registry.getSingleMetric(name);
  if (found === undefined) return undefined;
  if (!(found instanceof kind)) throw new TypeError(`metric ${name} is already registered with another type`);
  return found;
}

/** Messages left in the partition after `offset`, per the batch's high watermark. */
export function lagAfter(highWatermark: string, offset: string): number {
  const lag = BigInt(highWatermark) - BigInt(offset) - 1n;
  return lag > 0n ? Number(lag) : 0;
}
