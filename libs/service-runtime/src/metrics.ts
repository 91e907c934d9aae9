import { collectDefaultMetrics, Registry } from 'prom-client';

/** One Prometheus registry per service process, labelled with the service name. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'clearline_' });
  return registry;
}
