// The simulator's traffic, pure and seeded: the population (funding accounts, merchants, customers
// with funded wallets) and a stream of payment intents with what happens to them after
// authorization. The same seed and run label give the same ids, amounts, timings and fraud
// patterns, so a run can be repeated exactly (on a fresh database, or under another label).
// With a reuse fraction, each intent also carries `resends`: the re-sends of its commands under their
// ids (Jepsen's idempotence workload), drawn from a generator of their own, so the intents are the
// same with or without them.
import { createHash } from 'node:crypto';

/** Currencies the simulator pays in, with their minor-unit exponent and a typical basket (minor units). */
export const CURRENCIES = {
  EUR: { exponent: 2, typicalMinor: 4_500 },
  USD: { exponent: 2, typicalMinor: 5_000 },
  JPY: { exponent: 0, typicalMinor: 6_000 },
};

export const CHANNELS = ['card_acquiring', 'e_wallet', 'mobile', 'partner_bank'];

/** A small, fast, seeded generator (xorshift32); `next()` in [0, 1). */
export function seededRandom(seed) {
  let state = (Number(seed) >>> 0) || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4_294_967_296;
  };
  return {
    next,
    integer: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (probability) => next() < probability,
    /** Log-normal-ish around `typical` (median), bounded to [typical / 20, typical * 20]. */
    amountAround: (typical) => {
      const normal = Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
      const value = Math.round(typical * Math.exp(0.8 * normal));
      return Math.min(typical * 20, Math.max(Math.ceil(typical / 20), value));
    },
  };
}

/** A deterministic uuid (v8 layout) from the run label and a name: the same inputs, the same id. */
export function uuidFor(run, name) {
  const hex = createHash('sha256').update(`${run}/${name}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Who takes part: per currency a funding account; merchants (one account per currency, allowed to go
 * below zero, as settlement needs); customers with one wallet each, in one currency, funded with
 * enough for their share of the run.
 */
export function population({ run, seed, merchants, customers }) {
  const random = seededRandom(seed ^ 0x5eed);
  const currencies = Object.keys(CURRENCIES);
  const prefix = `sim-${run}`;
  const funding = Object.fromEntries(currencies.map((currency) => [currency, `${prefix}-funding-${currency.toLowerCase()}`]));
  const merchantList = Array.from({ length: merchants }, (_, index) => ({
    merchantId: `${prefix}-m${index}`,
    accounts: Object.fromEntries(currencies.map((currency) => [currency, `${prefix}-m${index}-${currency.toLowerCase()}`])),
  }));
  const customerList = Array.from({ length: customers }, (_, index) => {
    const currency = random.chance(0.6) ? 'EUR' : random.chance(0.6) ? 'USD' : 'JPY';
    return {
      accountId: `${prefix}-c${index}`,
      currency,
      fundingMinor: BigInt(CURRENCIES[currency].typicalMinor) * 400n,
      deviceId: `${prefix}-d${index}`,
      ipAddress: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
    };
  });
  return { prefix, funding, merchants: merchantList, customers: customerList };
}

/**
 * The payments of a run, one intent at a time. Most are ordinary (a sale, or an authorization that
 * is then captured in full or in part, voided, or left to expire; some captured payments are
 * refunded, once or twice). A few are fraud patterns risk should see: a velocity burst (one payer,
 * many payments within a second), a takeover (a new device and address, a large amount), a device
 * farm (one device paying for many customers).
 */
export function trafficOf(people, { run, seed, reuse = 0 }) {
  const random = seededRandom(seed);
  // Re-sends are drawn from a generator of their own, so that the payments themselves (ids, amounts,
  // patterns, plans) are the same whatever the reuse fraction, and a run without reuse is unchanged.
  const resendsOf = reuse > 0 ? resendPlanner(seededRandom((seed ^ 0x2e5e_7d1d) >>> 0), reuse) : undefined;
  const merchantWeights = people.merchants.map((_, index) => 1 / (index + 1)); // one hot merchant, a long tail
  const totalWeight = merchantWeights.reduce((sum, weight) => sum + weight, 0);
  const pickMerchant = () => {
    let point = random.next() * totalWeight;
    for (const [index, weight] of merchantWeights.entries()) {
      point -= weight;
      if (point <= 0) return people.merchants[index];
    }
    return people.merchants[0];
  };
  const farmDevice = `${people.prefix}-farm-device`;
  let sequence = 0;
  const burst = [];

  const intent = (customer, pattern, overrides = {}) => {
    const index = sequence++;
    const merchant = pickMerchant();
    const currency = customer.currency;
    const amountMinor = overrides.amountMinor ?? random.amountAround(CURRENCIES[currency].typicalMinor);
    const manual = pattern === 'ordinary' && random.chance(0.3);
    const afterAuthorization = manual ? pickAfterAuthorization(random, amountMinor) : { kind: 'none' };
    const refunds = pickRefunds(random, amountMinor, afterAuthorization);
    const planned = {
      index,
      pattern,
      paymentId: uuidFor(run, `payment-${index}`),
      request: {
        channel: random.pick(CHANNELS),
        merchantId: merchant.merchantId,
        merchantAccountId: merchant.accounts[currency],
        payerAccountId: customer.accountId,
        amount: { amountMinor: String(amountMinor), currency },
        method: 'wallet',
        captureMode: manual ? 'manual' : 'automatic',
        ...(manual && afterAuthorization.kind === 'expire' ? { authorizationTtlMs: 5_000 } : {}),
        riskContext: { deviceId: overrides.deviceId ?? customer.deviceId, ipAddress: overrides.ipAddress ?? customer.ipAddress },
      },
      afterAuthorization,
      refunds,
    };
    return resendsOf === undefined ? planned : { ...planned, resends: resendsOf(planned) };
  };

  return {
    next() {
      if (burst.length > 0) return burst.shift();
      const customer = random.pick(people.customers);
      const roll = random.next();
      if (roll < 0.004) {
        // A velocity burst: 12 payments from one payer, back to back.
        for (let count = 0; count < 11; count += 1) burst.push(intent(customer, 'velocity_burst'));
        return intent(customer, 'velocity_burst');
      }
      if (roll < 0.007) {
        return intent(customer, 'account_takeover', {
          deviceId: `${people.prefix}-new-device-${sequence}`,
          ipAddress: `203.0.113.${random.integer(1, 254)}`,
          amountMinor: CURRENCIES[customer.currency].typicalMinor * 60,
        });
      }
      if (roll < 0.012) return intent(customer, 'device_farm', { deviceId: farmDevice });
      return intent(customer, 'ordinary');
    },
  };
}

function pickAfterAuthorization(random, amountMinor) {
  const roll = random.next();
  const delayMs = random.integer(200, 2_000);
  if (roll < 0.6) return { kind: 'capture', delayMs };
  if (roll < 0.8) return { kind: 'partial_capture', delayMs, amountMinor: Math.max(1, Math.floor(amountMinor * (0.3 + 0.6 * random.next()))) };
  if (roll < 0.95) return { kind: 'void', delayMs };
  return { kind: 'expire' };
}

/** Refunds after capture: 10 % of captured payments get one, a quarter of those a second. */
function pickRefunds(random, amountMinor, afterAuthorization) {
  if (afterAuthorization.kind === 'void' || afterAuthorization.kind === 'expire' || !random.chance(0.1)) return [];
  const captured = afterAuthorization.kind === 'partial_capture' ? afterAuthorization.amountMinor : amountMinor;
  const first = Math.max(1, Math.floor(captured * (0.2 + 0.5 * random.next())));
  const refunds = [{ delayMs: random.integer(300, 3_000), amountMinor: first }];
  if (random.chance(0.25) && captured - first > 1) refunds.push({ delayMs: random.integer(300, 3_000), amountMinor: Math.max(1, Math.floor((captured - first) / 2)) });
  return refunds;
}

/**
 * The share of re-sends per original command that makes `reuse` the fraction of re-sends among all
 * commands sent: r / (1 - r) (0.3 of all commands -> 0.43 re-sends per original).
 */
export function resendsPerCommand(reuse) {
  return reuse / (1 - reuse);
}

/**
 * Re-sends of a payment's commands under their earlier ids (Jepsen's idempotence workload): per
 * command a number of re-sends averaging `resendsPerCommand(reuse)`, each a little after the
 * original, half with the same fields and half with changed ones that the platform would accept were
 * the id new (another amount that is still within bounds, or a capture under a void's command id).
 * A refund is re-sent under its command id, or under a new command id with the same refund id.
 */
function resendPlanner(random, reuse) {
  const perCommand = resendsPerCommand(reuse);
  const count = () => Math.floor(perCommand) + (random.chance(perCommand - Math.floor(perCommand)) ? 1 : 0);
  const times = (make) => Array.from({ length: count() }, (_, attempt) => ({ attempt, delayMs: random.integer(0, 1_500), changed: random.chance(0.5), ...make() }));
  return (planned) => {
    const amountMinor = Number(planned.request.amount.amountMinor);
    const plan = planned.afterAuthorization;
    return {
      request: times(() => ({ changedAmountMinor: amountMinor + random.integer(1, 99) })),
      capture: plan.kind === 'capture' || plan.kind === 'partial_capture'
        // A full capture changed into a partial one; a partial capture into one a unit larger (partial
        // amounts are at most 90 % of the authorized one, so it still fits).
        ? times(() => ({ changedAmountMinor: plan.kind === 'capture' ? Math.max(1, Math.floor(amountMinor / 2)) : plan.amountMinor + 1 }))
        : [],
      // A void has no field to change: its changed re-send is a full capture under the void's command id.
      void: plan.kind === 'void' ? times(() => ({})) : [],
      refunds: planned.refunds.map((refund) => times(() => ({
        key: random.chance(0.5) ? 'command' : 'refund',
        changedAmountMinor: refund.amountMinor > 1 ? refund.amountMinor - 1 : refund.amountMinor + 1,
      }))),
    };
  };
}
