// Proves the routing: an authorization falls back along its rail's ordered connectors when one
// fails retryably or is open, stops at a decline or a non-retryable failure, respects the route's
// time budget; capture / void / refund go only to the connector that authorized; every attempt of
// the whole route comes back in order (and to the callback); breaker states are exposed.
import { ConnectorRouter, type ConnectorRouterOptions } from './connector-router.js';
import { approved, ConnectorFailureCodes, declined, failed, type Connector } from './connector.js';
import { cardAuthorization, eur, scriptedConnector, walletAuthorization, type ScriptedAnswer } from './connectors.test-kit.js';
import type { ConnectorAttempt } from './resilient-connector.js';
import { ManualClock } from './manual-clock.js';
import { seededRandom } from './seeded-random.js';

function setup(scripts: Record<string, readonly ScriptedAnswer[]>, options: Partial<ConnectorRouterOptions> = {}) {
  const clock = new ManualClock();
  const connectors = Object.fromEntries(Object.entries(scripts).map(([id, script]) => [id, scriptedConnector(id, id.startsWith('wallet') ? 'e_wallet' : 'card', clock, script)]));
  const observed: ConnectorAttempt[] = [];
  const router = new ConnectorRouter({
    connectors: Object.values(connectors),
    routes: { card: Object.keys(scripts).filter((id) => id.startsWith('card')) },
    retry: { maxAttempts: 2, backoff: { initialMs: 100, maxMs: 1_000 } },
    breaker: { consecutiveFailuresToOpen: 2, failureRate: null, openDurationMs: 30_000 },
    clock,
    random: seededRandom(7),
    onAttempt: (attempt) => observed.push(attempt),
    ...options,
  });
  return { clock, connectors, router, observed };
}

const summary = (attempts: readonly ConnectorAttempt[]) => attempts.map((attempt) => `${attempt.connectorId}#${attempt.attempt}:${attempt.outcome}:${attempt.code ?? '-'}`);

describe('ConnectorRouter', () => {
  describe('authorize', () => {
    it('uses the first connector of the rail when it approves', async () => {
      const { router, clock, connectors } = setup({ 'card-a': [approved('a-1')], 'card-b': [approved('b-1')] });
      const routed = await clock.run(router.authorize(cardAuthorization(1000n)));
      expect(routed).toMatchObject({ result: approved('a-1'), connectorId: 'card-a' });
      expect(connectors['card-b']!.calls).toHaveLength(0);
    });

    it('falls back to the next connector after the retries of a retryable failure, and reports every attempt in order', async () => {
      const { router, clock, observed } = setup({ 'card-a': [failed('issuer_unavailable', true)], 'card-b': [approved('b-1')] });
      const routed = await clock.run(router.authorize(cardAuthorization(1000n)));
      expect(routed.result).toEqual(approved('b-1'));
      expect(routed.connectorId).toBe('card-b');
      expect(summary(routed.attempts)).toEqual(['card-a#1:failed:issuer_unavailable', 'card-a#2:failed:issuer_unavailable', 'card-b#1:approved:-']);
      expect(observed).toEqual(routed.attempts);
    });

    it('skips an open connector without calling it', async () => {
      const { router, clock, connectors } = setup({ 'card-a': [failed('down', true)], 'card-b': [approved('b-1')] });
      await clock.run(router.authorize(cardAuthorization(1000n, 'key-1'))); // two failures open card-a
      const routed = await clock.run(router.authorize(cardAuthorization(1000n, 'key-2')));
      expect(summary(routed.attempts)).toEqual(['card-a#1:skipped:circuit_open', 'card-b#1:approved:-']);
      expect(connectors['card-a']!.calls).toHaveLength(2);
      expect(router.breakerSnapshots()).toEqual([
        expect.objectContaining({ connectorId: 'card-a', state: 'open', stateValue: 2 }),
        expect.objectContaining({ connectorId: 'card-b', state: 'closed', stateValue: 0 }),
      ]);
    });

    it('probes the connector again after its cool-down and returns to it when it recovered', async () => {
      const { router, clock } = setup({ 'card-a': [failed('down', true), failed('down', true), approved('a-1')], 'card-b': [approved('b-1')] });
      await clock.run(router.authorize(cardAuthorization(1000n, 'key-1')));
      await clock.advanceBy(30_000);
      const routed = await clock.run(router.authorize(cardAuthorization(1000n, 'key-2')));
      expect(routed).toMatchObject({ result: approved('a-1'), connectorId: 'card-a' });
      expect(router.breakerSnapshots()[0]!.state).toBe('closed');
    });

    it.each([
      ['a decline', declined('insufficient_funds')],
      ['a non-retryable failure', failed('invalid_request', false)],
    ])('does not fall back after %s', async (_name, answer) => {
      const { router, clock, connectors } = setup({ 'card-a': [answer], 'card-b': [approved('b-1')] });
      const routed = await clock.run(router.authorize(cardAuthorization(1000n)));
      expect(routed).toMatchObject({ result: answer, connectorId: 'card-a' });
      expect(connectors['card-b']!.calls).toHaveLength(0);
    });

    it('answers connector_unavailable when every connector failed', async () => {
      const { router, clock } = setup({ 'card-a': [{ hang: true }], 'card-b': [failed('down', true)] });
      const routed = await clock.run(router.authorize(cardAuthorization(1000n)));
      expect(routed).toMatchObject({ result: failed(ConnectorFailureCodes.unavailable, true), connectorId: null });
      expect(summary(routed.attempts)).toEqual([
        'card-a#1:failed:connector_timeout',
        'card-a#2:failed:connector_timeout',
        'card-b#1:failed:down',
        'card-b#2:failed:down',
      ]);
    });

    it('stops routing when the budget is spent', async () => {
      const { router, clock, connectors } = setup({ 'card-a': [{ hang: true }], 'card-b': [approved('b-1')] }, { budgetMs: 3_000 });
      const started = clock.now();
      const routed = await clock.run(router.authorize(cardAuthorization(1000n)));
      expect(routed.result).toEqual(failed(ConnectorFailureCodes.unavailable, true));
      expect(clock.now() - started).toBeLessThanOrEqual(3_000);
      expect(connectors['card-b']!.calls).toHaveLength(0);
    });

    it('answers no_route for a rail without connectors', async () => {
      const { router, clock } = setup({ 'card-a': [approved('a-1')] });
      const routed = await clock.run(router.authorize(walletAuthorization(1000n)));
      expect(routed).toEqual({ result: failed(ConnectorFailureCodes.noRoute, false), connectorId: null, attempts: [] });
    });
  });

  describe('capture, void and refund', () => {
    const capture = { idempotencyKey: 'pay-1:capture', paymentId: 'pay-1', authorizationReference: 'b-1', amount: eur(1000n) };

    it('go to the named connector only, with its retries, and never fall back', async () => {
      const { router, clock, connectors } = setup({ 'card-a': [approved('a-cap')], 'card-b': [failed('down', true)] });
      const routed = await clock.run(router.capture('card-b', capture));
      expect(routed).toMatchObject({ result: failed('down', true), connectorId: 'card-b' });
      expect(summary(routed.attempts)).toEqual(['card-b#1:failed:down', 'card-b#2:failed:down']);
      expect(connectors['card-a']!.calls).toHaveLength(0);
    });

    it('answer no_route for an unknown connector', async () => {
      const { router, clock } = setup({ 'card-a': [approved('a-1')] });
      const routed = await clock.run(router.void('card-z', { idempotencyKey: 'k', paymentId: 'pay-1', authorizationReference: 'x' }));
      expect(routed.result).toEqual(failed(ConnectorFailureCodes.noRoute, false));
    });

    it('refund through the named connector', async () => {
      const { router, clock } = setup({ 'card-a': [approved('a-refund')] });
      const routed = await clock.run(router.refund('card-a', { ...capture, idempotencyKey: 'pay-1:refund:r1' }));
      expect(routed).toMatchObject({ result: approved('a-refund'), connectorId: 'card-a', attempts: [expect.objectContaining({ operation: 'refund' })] });
    });
  });

  describe('configuration', () => {
    const clock = new ManualClock();
    const card = scriptedConnector('card-a', 'card', clock, [approved('x')]);
    const wallet: Connector = scriptedConnector('wallet-a', 'e_wallet', clock, [approved('x')]);

    it.each([
      ['a duplicate connector id', { connectors: [card, card], routes: {} }, /duplicate/],
      ['a route naming an unknown connector', { connectors: [card], routes: { card: ['card-z'] } }, /not configured/],
      ['a route naming a connector of another rail', { connectors: [card, wallet], routes: { card: ['wallet-a'] } }, /rail 'e_wallet'/],
      ['a route listing a connector twice', { connectors: [card], routes: { card: ['card-a', 'card-a'] } }, /twice/],
      ['an unbounded budget', { connectors: [card], routes: {}, budgetMs: 3_600_000 }, /budgetMs/],
      ['overrides for an unknown connector', { connectors: [card], routes: {}, overrides: { 'card-z': {} } }, /overrides/],
    ])('refuses %s', (_name, options, message) => {
      expect(() => new ConnectorRouter({ clock, ...(options as ConnectorRouterOptions) })).toThrow(message);
    });

    it('applies per-connector overrides', () => {
      const router = new ConnectorRouter({ clock, connectors: [card], routes: { card: ['card-a'] }, overrides: { 'card-a': { attemptTimeoutMs: 5_000 } } });
      expect(router.routes()).toEqual({ card: ['card-a'] });
    });
  });
});
