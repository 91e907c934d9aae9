// Prometheus metrics of the connectors: attempts by outcome, attempt latency, and each breaker's
// state as a gauge read at scrape time (so it is right even when no call has happened for a while,
// which is exactly when an open breaker turns half-open).
import { Counter, Gauge, Histogram, register as globalRegistry, type Registry } from 'prom-client';
import type { BreakerTransition } from './circuit-breaker.js';
import type { ConnectorRouter } from './connector-router.js';
import type { ConnectorAttempt } from './resilient-connector.js';

export const ConnectorMetricNames = {
  attempts: 'clearline_connector_attempts_total',
  attemptDuration: 'clearline_connector_attempt_duration_seconds',
  breakerState: 'clearline_connector_breaker_state',
  breakerTransitions: 'clearline_connector_breaker_transitions_total',
} as const;

export interface ConnectorMetrics {
  /** Pass as the router's `onAttempt`. */
  readonly onAttempt: (attempt: ConnectorAttempt) => void;
  /** Pass as the router's `onBreakerTransition`. */
  readonly onBreakerTransition: (transition: BreakerTransition) => void;
  /** Reports the router's breakers in the state gauge at every scrape. */
  readonly watch: (router: ConnectorRouter) => void;
}

const byRegistry = new WeakMap<Registry, ConnectorMetrics>();

/** The connector metrics of one registry, created on first use and shared by every router of the process. */
export function connectorMetrics(registry: Registry = globalRegistry): ConnectorMetrics {
  const known = byRegistry.get(registry);
  if (known) return known;
  const routers = new Set<ConnectorRouter>();
  // Labels are connector ids, operations and outcomes: small, fixed sets. Provider codes are left
  // out on purpose, since an acquirer may invent new ones and each would become a new series.
  const attempts = new Counter({
    name: ConnectorMetricNames.attempts,
    help: 'Connector calls by outcome: approved, declined, failed, or skipped (breaker open or too many in flight).',
    labelNames: ['connector', 'operation', 'outcome'],
    registers: [registry],
  });
  const attemptDuration = new Histogram({
    name: ConnectorMetricNames.attemptDuration,
    help: 'Time of one connector call, up to its timeout.',
    labelNames: ['connector', 'operation'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: ConnectorMetricNames.breakerState,
    help: 'Circuit breaker state per connector: 0 closed, 1 half-open, 2 open.',
    labelNames: ['connector'],
    registers: [registry],
    collect() {
      this.reset();
      for (const router of routers) {
        for (const snapshot of router.breakerSnapshots()) this.set({ connector: snapshot.connectorId }, snapshot.stateValue);
      }
    },
  });
  const transitions = new Counter({
    name: ConnectorMetricNames.breakerTransitions,
    help: 'Circuit breaker transitions per connector, by the state entered.',
    labelNames: ['connector', 'to'],
    registers: [registry],
  });
  const metrics: ConnectorMetrics = {
    onAttempt: (attempt) => {
      attempts.inc({ connector: attempt.connectorId, operation: attempt.operation, outcome: attempt.outcome });
      if (attempt.outcome !== 'skipped') attemptDuration.observe({ connector: attempt.connectorId, operation: attempt.operation }, attempt.latencyMs / 1_000);
    },
    onBreakerTransition: (transition) => transitions.inc({ connector: transition.connectorId, to: transition.to }),
    watch: (router) => {
      routers.add(router);
    },
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
