// Proves the metrics wiring: attempts are counted by connector, operation and outcome, latency is
// observed in seconds, and the breaker gauge shows each watched router's breakers at scrape time.
import { Registry } from 'prom-client';
import { ConnectorRouter } from './connector-router.js';
import { failed } from './connector.js';
import { cardAuthorization, scriptedConnector } from './connectors.test-kit.js';
import { ConnectorMetricNames, connectorMetrics } from './connectors.metrics.js';
import { ManualClock } from './manual-clock.js';

describe('connectorMetrics', () => {
  it('counts attempts and shows breaker states', async () => {
    const registry = new Registry();
    const metrics = connectorMetrics(registry);
    expect(connectorMetrics(registry)).toBe(metrics);
    const clock = new ManualClock();
    const router = new ConnectorRouter({
      connectors: [scriptedConnector('card-a', 'card', clock, [failed('down', true)])],
      routes: { card: ['card-a'] },
      retry: { maxAttempts: 2 },
      breaker: { consecutiveFailuresToOpen: 2, failureRate: null },
      clock,
      random: () => 0,
      onAttempt: metrics.onAttempt,
      onBreakerTransition: metrics.onBreakerTransition,
    });
    metrics.watch(router);
    await clock.run(router.authorize(cardAuthorization(1_000n, 'k1')));
    await clock.run(router.authorize(cardAuthorization(1_000n, 'k2')));

    const text = await registry.metrics();
    expect(text).toContain(`${ConnectorMetricNames.attempts}{connector="card-a",operation="authorize",outcome="failed"} 2`);
    expect(text).toContain(`${ConnectorMetricNames.attempts}{connector="card-a",operation="authorize",outcome="skipped"} 1`);
    expect(text).toContain(`${ConnectorMetricNames.attemptDuration}_count{connector="card-a",operation="authorize"} 2`);
    expect(text).toContain(`${ConnectorMetricNames.breakerState}{connector="card-a"} 2`);
    expect(text).toContain(`${ConnectorMetricNames.breakerTransitions}{connector="card-a",to="open"} 1`);
  });
});
