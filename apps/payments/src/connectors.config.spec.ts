// Proves how apps/payments reads its connectors from the environment: a primary and a backup per rail
// by default, a connector taken down or slowed by merging a few fields, routes replaced per rail, and
// every bad value refused with the variable (and field) named.
import { connectorSettings, DEFAULT_CONNECTOR_ROUTES } from './connectors.config.js';

describe('connector settings', () => {
  it('defaults to a primary then a backup per rail, with the documented bounds', () => {
    const settings = connectorSettings({});
    expect(settings.routes).toEqual(DEFAULT_CONNECTOR_ROUTES);
    expect(Object.keys(settings.connectors)).toEqual(['card-primary', 'card-backup', 'e-wallet-primary', 'e-wallet-backup', 'mobile-money-primary', 'mobile-money-backup']);
    expect(settings.connectors['card-backup']).toEqual({ rail: 'card', seed: 2, outages: [] });
    expect(settings).toMatchObject({ attemptTimeoutMs: 2_000, budgetMs: 10_000, pollIntervalMs: 100, batchSize: 20, leaseMs: 60_000 });
  });

  it('merges PAYMENTS_CONNECTORS over the defaults: down, latency, failure rate, outage windows, a new connector', () => {
    const settings = connectorSettings({
      PAYMENTS_CONNECTORS: JSON.stringify({
        'card-primary': { down: 'unavailable', latencyMs: { min: 5, max: 10 }, failureRate: 0.2 },
        'card-spare': { rail: 'card', seed: 9, latencyMs: 3, outages: [{ fromMs: 1_000, untilMs: 2_000, mode: 'unresponsive' }] },
      }),
      PAYMENTS_CONNECTOR_ROUTES: JSON.stringify({ card: ['card-primary', 'card-spare'] }),
    });
    expect(settings.connectors['card-primary']).toEqual({
      rail: 'card', seed: 1, latency: { kind: 'uniform', minMs: 5, maxMs: 10 }, failureRate: 0.2, outages: [{ fromMs: 0, untilMs: 8.64e15, mode: 'unavailable' }],
    });
    expect(settings.connectors['card-spare']).toEqual({ rail: 'card', seed: 9, latency: { kind: 'fixed', ms: 3 }, outages: [{ fromMs: 1_000, untilMs: 2_000, mode: 'unresponsive' }] });
    expect(settings.routes).toEqual({ ...DEFAULT_CONNECTOR_ROUTES, card: ['card-primary', 'card-spare'] });
  });

  it.each([
    [{ PAYMENTS_CONNECTORS: 'not json' }, 'PAYMENTS_CONNECTORS must be JSON'],
    [{ PAYMENTS_CONNECTORS: '{"Card_A":{"rail":"card"}}' }, "connector id 'Card_A' must match"],
    [{ PAYMENTS_CONNECTORS: '{"new-one":{}}' }, "PAYMENTS_CONNECTORS['new-one'].rail must be one of"],
    [{ PAYMENTS_CONNECTORS: '{"card-primary":{"failureRate":2}}' }, "PAYMENTS_CONNECTORS['card-primary'].failureRate must be a number in 0..1"],
    [{ PAYMENTS_CONNECTORS: '{"card-primary":{"down":"sometimes"}}' }, "PAYMENTS_CONNECTORS['card-primary'].down must be"],
    [{ PAYMENTS_CONNECTOR_ROUTES: '{"cash":["card-primary"]}' }, "PAYMENTS_CONNECTOR_ROUTES: unknown rail 'cash'"],
    [{ PAYMENTS_CONNECTOR_BUDGET_MS: '500' }, 'PAYMENTS_CONNECTOR_BUDGET_MS must be an integer in 2000..120000'],
    [{ PAYMENTS_CONNECTOR_LEASE_MS: '5000' }, 'PAYMENTS_CONNECTOR_LEASE_MS must be an integer in 11000..'],
  ])('refuses %j', (environment, message) => {
    expect(() => connectorSettings(environment)).toThrow(message);
  });
});
