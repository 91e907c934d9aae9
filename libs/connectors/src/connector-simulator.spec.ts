// Proves the simulator is a faithful stand-in: deterministic (same seed and requests, same
// answers and latencies), idempotent by key (no double capture; a reused key with another body is
// refused), enforcing capture <= authorized and refunds <= captured, with declines by amount
// suffix, source and test card, and with its configured bad days (failure rate, lost replies, outages).
import { ConnectorSimulator, SimulatorCodes, type ConnectorSimulatorOptions } from './connector-simulator.js';
import { declined, failed, type AuthorizeRequest, type ConnectorResult } from './connector.js';
import { cardAuthorization, eur, inMemoryRedis, walletAuthorization } from './connectors.test-kit.js';
import { CardVault } from '@clearline/cards';
import { ManualClock } from './manual-clock.js';
import { ConnectorRouter } from './connector-router.js';

const noSignal = { signal: new AbortController().signal };

function simulator(options: Partial<ConnectorSimulatorOptions> = {}) {
  const clock = options.clock ?? new ManualClock();
  const subject = new ConnectorSimulator({ id: 'card-sim', rail: 'card', seed: 42, clock, latency: { kind: 'fixed', ms: 50 }, ...options });
  const call = <T>(promise: Promise<T>) => (clock as ManualClock).run(promise);
  return { clock: clock as ManualClock, subject, call };
}

async function authorized(subject: ConnectorSimulator, call: <T>(promise: Promise<T>) => Promise<T>, amountMinor = 10_000n): Promise<string> {
  const result = await call(subject.authorize(cardAuthorization(amountMinor), noSignal));
  if (result.outcome !== 'approved') throw new Error(`expected an approval, got ${JSON.stringify(result)}`);
  return result.reference;
}

describe('ConnectorSimulator', () => {
  describe('determinism', () => {
    async function trace(seed: number): Promise<string[]> {
      const clock = new ManualClock();
      const subject = new ConnectorSimulator({ id: 'card-sim', rail: 'card', seed, clock, latency: { kind: 'log_normal', medianMs: 80, sigma: 0.8, maxMs: 5_000 }, failureRate: 0.3 });
      const lines: string[] = [];
      for (let index = 0; index < 20; index++) {
        const started = clock.now();
        const result = await clock.run(subject.authorize(cardAuthorization(1_000n + BigInt(index) * 100n, `key-${index}`), noSignal));
        lines.push(`${JSON.stringify(result)} after ${clock.now() - started} ms`);
      }
      return lines;
    }

    it('gives the same answers and latencies for the same seed, and others for another seed', async () => {
      const first = await trace(42);
      expect(await trace(42)).toEqual(first);
      expect(await trace(43)).not.toEqual(first);
      expect(first.some((line) => line.includes(SimulatorCodes.processorUnavailable))).toBe(true);
      expect(first.some((line) => line.includes('approved'))).toBe(true);
    });

    it('keeps latencies within the profile', async () => {
      const clock = new ManualClock();
      const subject = new ConnectorSimulator({ id: 'sim', rail: 'e_wallet', seed: 1, clock, latency: { kind: 'uniform', minMs: 20, maxMs: 40 } });
      for (let index = 0; index < 30; index++) {
        const started = clock.now();
        await clock.run(subject.authorize(walletAuthorization(1_000n, `key-${index}`), noSignal));
        expect(clock.now() - started).toBeGreaterThanOrEqual(20);
        expect(clock.now() - started).toBeLessThanOrEqual(40);
      }
    });

    it('derives references from seed, connector and key', async () => {
      const one = simulator();
      const two = simulator();
      expect(await authorized(one.subject, one.call)).toBe(await authorized(two.subject, two.call));
    });
  });

  describe('decline rules', () => {
    it.each([
      [1_051n, declined('insufficient_funds')],
      [1_005n, declined('do_not_honor')],
      [1_054n, declined('expired_card')],
      [1_091n, failed('issuer_unavailable', true)],
      [1_000n, 'approved'],
    ])('answers an authorization of %s minor units by its suffix', async (amountMinor, expected) => {
      const { subject, call } = simulator();
      const result = await call(subject.authorize(cardAuthorization(amountMinor), noSignal));
      if (expected === 'approved') expect(result.outcome).toBe('approved');
      else expect(result).toEqual(expected);
    });

    it('prefers the longest configured suffix, and source rules over amounts', async () => {
      const { subject, call } = simulator({
        amountSuffixRules: { '1': { outcome: 'declined', code: 'short' }, '01': { outcome: 'declined', code: 'long' } },
        sourceRules: { 'tok_BLOCKEDBLOCKEDBLOCKED1': { outcome: 'declined', code: 'blocked_token' } },
      });
      expect(await call(subject.authorize(cardAuthorization(201n, 'k1'), noSignal))).toEqual(declined('long'));
      expect(await call(subject.authorize(cardAuthorization(211n, 'k2'), noSignal))).toEqual(declined('short'));
      expect(await call(subject.authorize(cardAuthorization(201n, 'k3', 'tok_BLOCKEDBLOCKEDBLOCKED1'), noSignal))).toEqual(declined('blocked_token'));
    });

    it('detokenizes a card and applies the acquirer test cards', async () => {
      const clock = new ManualClock();
      const vault = new CardVault(inMemoryRedis(clock), { keyring: { activeKeyId: 'k1', keys: { k1: Buffer.alloc(32, 1) } }, fingerprintKey: Buffer.alloc(32, 2), clock });
      const { subject, call } = simulator({ clock, detokenizer: vault });
      const authorize = async (pan: string, key: string): Promise<ConnectorResult> => {
        const card = await vault.tokenize({ pan, expMonth: 12, expYear: 2030 });
        return call(subject.authorize(cardAuthorization(1_000n, key, card.token), noSignal));
      };
      expect((await authorize('4242424242424242', 'k1')).outcome).toBe('approved');
      expect(await authorize('4000000000009995', 'k2')).toEqual(declined('insufficient_funds'));
      expect(await authorize('4000000000000119', 'k3')).toEqual(failed('processing_error', true));
      expect(await call(subject.authorize(cardAuthorization(1_000n, 'k4', 'tok_UNKNOWNUNKNOWNUNKNOWN'), noSignal))).toEqual(declined(SimulatorCodes.cardTokenNotFound));
    });
  });

  describe('idempotency', () => {
    it('answers a repeated key with the same result and acts once', async () => {
      const { subject, call } = simulator();
      const reference = await authorized(subject, call);
      const capture = { idempotencyKey: 'cap-1', paymentId: 'pay-1', authorizationReference: reference, amount: eur(6_000n) };
      const first = await call(subject.capture(capture, noSignal));
      const second = await call(subject.capture(capture, noSignal));
      expect(second).toEqual(first);
      // Only 6,000 of 10,000 were captured, so 4,000 more still fit: a double capture would have left 0.
      expect(await call(subject.capture({ ...capture, idempotencyKey: 'cap-2', amount: eur(4_000n) }, noSignal))).toMatchObject({ outcome: 'approved' });
    });

    it('answers concurrent calls with one key once', async () => {
      const { subject, call } = simulator();
      const reference = await authorized(subject, call);
      const capture = { idempotencyKey: 'cap-1', paymentId: 'pay-1', authorizationReference: reference, amount: eur(10_000n) };
      const results = await call(Promise.all([subject.capture(capture, noSignal), subject.capture(capture, noSignal), subject.capture(capture, noSignal)]));
      expect(new Set(results.map((result) => JSON.stringify(result))).size).toBe(1);
      expect(results[0]!.outcome).toBe('approved');
    });

    it('refuses a key reused with another body', async () => {
      const { subject, call } = simulator();
      await authorized(subject, call);
      const other: AuthorizeRequest = cardAuthorization(20_000n);
      expect(await call(subject.authorize(other, noSignal))).toEqual(failed(SimulatorCodes.idempotencyKeyReused, false));
    });

    it('does not remember a transient failure: the retry gets a fresh chance', async () => {
      const { subject, call } = simulator({ failureRate: 0.5, seed: 1 });
      const results: string[] = [];
      for (let attempt = 0; attempt < 10; attempt++) {
        const result = await call(subject.authorize(cardAuthorization(1_000n), noSignal));
        results.push(result.outcome === 'failed' ? result.code : result.outcome);
        if (result.outcome === 'approved') break;
      }
      expect(results[0]).toBe(SimulatorCodes.processorUnavailable);
      expect(results.at(-1)).toBe('approved');
    });

    it('acts on a call whose reply is lost, and answers the retry with the same key', async () => {
      const { subject, clock } = simulator({ lostReplyRate: 1, hangMs: 60_000 });
      const controller = new AbortController();
      const lost = subject.authorize(cardAuthorization(1_000n), { signal: controller.signal });
      lost.catch(() => undefined);
      await clock.advanceBy(5_000);
      controller.abort(new Error('attempt timeout'));
      await expect(lost).rejects.toThrow('attempt timeout');
      const retried = await clock.run(subject.authorize(cardAuthorization(1_000n), noSignal));
      expect(retried.outcome).toBe('approved');
    });
  });

  describe('amounts', () => {
    it('never captures more than authorized, over several partial captures', async () => {
      const { subject, call } = simulator();
      const reference = await authorized(subject, call, 10_000n);
      const capture = (key: string, amountMinor: bigint) =>
        call(subject.capture({ idempotencyKey: key, paymentId: 'pay-1', authorizationReference: reference, amount: eur(amountMinor) }, noSignal));
      expect((await capture('c1', 7_000n)).outcome).toBe('approved');
      expect(await capture('c2', 3_001n)).toEqual(declined(SimulatorCodes.amountExceedsAuthorized));
      expect((await capture('c3', 3_000n)).outcome).toBe('approved');
    });

    it('never refunds more than captured', async () => {
      const { subject, call } = simulator();
      const reference = await authorized(subject, call, 10_000n);
      const request = (key: string, amountMinor: bigint) => ({ idempotencyKey: key, paymentId: 'pay-1', authorizationReference: reference, amount: eur(amountMinor) });
      expect(await call(subject.refund(request('r0', 1n), noSignal))).toEqual(declined(SimulatorCodes.amountExceedsRefundable));
      await call(subject.capture(request('c1', 5_000n), noSignal));
      expect((await call(subject.refund(request('r1', 4_000n), noSignal))).outcome).toBe('approved');
      expect(await call(subject.refund(request('r2', 1_001n), noSignal))).toEqual(declined(SimulatorCodes.amountExceedsRefundable));
      expect((await call(subject.refund(request('r3', 1_000n), noSignal))).outcome).toBe('approved');
    });

    it('voids only an uncaptured authorization, and captures nothing after a void', async () => {
      const { subject, call } = simulator();
      const first = await authorized(subject, call);
      expect((await call(subject.void({ idempotencyKey: 'v1', paymentId: 'pay-1', authorizationReference: first }, noSignal))).outcome).toBe('approved');
      expect(await call(subject.capture({ idempotencyKey: 'c1', paymentId: 'pay-1', authorizationReference: first, amount: eur(1n) }, noSignal))).toEqual(
        declined(SimulatorCodes.authorizationVoided),
      );
      expect(await call(subject.void({ idempotencyKey: 'v2', paymentId: 'pay-1', authorizationReference: 'nope' }, noSignal))).toEqual(declined(SimulatorCodes.authorizationNotFound));
    });

    it('with trustTwinAuthorizations, captures, refunds and voids an authorization its twin (same id and seed) made', async () => {
      const { subject: twin, call: callTwin } = simulator();
      const reference = await authorized(twin, callTwin);
      const { subject, call } = simulator({ trustTwinAuthorizations: true });
      const capture = (key: string, amountMinor: bigint) => subject.capture({ idempotencyKey: key, paymentId: 'pay-1', authorizationReference: reference, amount: eur(amountMinor) }, noSignal);
      expect((await call(capture('c1', 4_000n))).outcome).toBe('approved');
      expect((await call(subject.refund({ idempotencyKey: 'r1', paymentId: 'pay-1', authorizationReference: reference, amount: eur(4_000n) }, noSignal))).outcome).toBe('approved');
      expect((await call(subject.void({ idempotencyKey: 'v1', paymentId: 'pay-2', authorizationReference: 'card-sim_auth_0123456789abcdef0123' }, noSignal))).outcome).toBe('approved');
      // Only references of its own connector id; without the option, the twin's authorization is unknown.
      expect(await call(subject.void({ idempotencyKey: 'v2', paymentId: 'pay-1', authorizationReference: 'other_auth_0123' }, noSignal))).toEqual(declined(SimulatorCodes.authorizationNotFound));
      const { subject: strict, call: callStrict } = simulator();
      expect(await callStrict(strict.capture({ idempotencyKey: 'c1', paymentId: 'pay-1', authorizationReference: reference, amount: eur(1n) }, noSignal))).toEqual(declined(SimulatorCodes.authorizationNotFound));
    });

    it('refuses a source of another rail', async () => {
      const { subject, call } = simulator();
      expect(await call(subject.authorize(walletAuthorization(1_000n), noSignal))).toEqual(failed(SimulatorCodes.invalidRequest, false));
    });

    it('refuses a capture in another currency and a non-positive amount', async () => {
      const { subject, call } = simulator();
      const reference = await authorized(subject, call);
      const usd = { amountMinor: 100n, currency: 'USD' as const };
      expect(await call(subject.capture({ idempotencyKey: 'c1', paymentId: 'pay-1', authorizationReference: reference, amount: usd }, noSignal))).toEqual(
        declined(SimulatorCodes.currencyMismatch),
      );
      expect(await call(subject.capture({ idempotencyKey: 'c2', paymentId: 'pay-1', authorizationReference: reference, amount: eur(0n) }, noSignal))).toEqual(
        failed(SimulatorCodes.invalidRequest, false),
      );
    });
  });

  describe('outages', () => {
    it('fails fast inside an unavailable window and recovers after it', async () => {
      const clock = new ManualClock();
      const start = clock.now();
      const { subject, call } = simulator({ clock, outages: [{ fromMs: start, untilMs: start + 60_000, mode: 'unavailable' }] });
      expect(await call(subject.authorize(cardAuthorization(1_000n), noSignal))).toEqual(failed(SimulatorCodes.serviceUnavailable, true));
      await clock.advanceBy(60_000);
      expect((await call(subject.authorize(cardAuthorization(1_000n), noSignal))).outcome).toBe('approved');
    });

    it('with the router, opens the breaker during an unresponsive window and falls back to a second simulator', async () => {
      const clock = new ManualClock();
      const start = clock.now();
      const primary = new ConnectorSimulator({ id: 'card-a', rail: 'card', seed: 1, clock, outages: [{ fromMs: start, untilMs: start + 600_000, mode: 'unresponsive' }] });
      const secondary = new ConnectorSimulator({ id: 'card-b', rail: 'card', seed: 2, clock });
      const router = new ConnectorRouter({
        connectors: [primary, secondary],
        routes: { card: ['card-a', 'card-b'] },
        breaker: { consecutiveFailuresToOpen: 3, failureRate: null },
        clock,
        random: () => 0.5,
      });
      const outcomes: string[] = [];
      for (let index = 0; index < 3; index++) {
        const routed = await clock.run(router.authorize(cardAuthorization(1_000n, `key-${index}`)));
        outcomes.push(`${routed.connectorId}:${routed.attempts.map((attempt) => attempt.code ?? 'ok').join(',')}`);
      }
      expect(outcomes).toEqual([
        'card-b:connector_timeout,connector_timeout,connector_timeout,ok',
        'card-b:circuit_open,ok',
        'card-b:circuit_open,ok',
      ]);
      expect(primary.calls).toBe(3);
      expect(clock.pendingTimers).toBe(0);
    });
  });

  it('refuses unbounded configuration', () => {
    expect(() => simulator({ failureRate: 1.5 })).toThrow(/failureRate/);
    expect(() => simulator({ latency: { kind: 'fixed', ms: 120_000 } })).toThrow(/latency/);
    expect(() => simulator({ maxRecords: 0 })).toThrow(/maxRecords/);
    expect(() => simulator({ amountSuffixRules: { x1: { outcome: 'no_reply' } } })).toThrow(/suffix/);
  });

  it('forgets the oldest records beyond maxRecords', async () => {
    const { subject, call } = simulator({ maxRecords: 2 });
    const first = await authorized(subject, call);
    await call(subject.authorize(cardAuthorization(1_000n, 'k2'), noSignal));
    await call(subject.authorize(cardAuthorization(1_000n, 'k3'), noSignal));
    expect(await call(subject.void({ idempotencyKey: 'v1', paymentId: 'pay-1', authorizationReference: first }, noSignal))).toEqual(declined(SimulatorCodes.authorizationNotFound));
  });
});

