import { currencyOf } from '@clearline/money';
import type { RiskFeatures, RiskPayment } from './features.js';
import { InMemoryFeatureStore } from './in-memory-feature-store.js';
import { SeededRandom } from './seeded-random.js';

/**
 * A seeded transaction simulator: realistic ordinary traffic (payers with their own rhythm, spend,
 * devices, shared carrier IPs, travel, a new phone now and then, big-ticket purchases, new customers)
 * with four known fraud patterns mixed in and labelled. Every payment goes through the reference
 * feature store in time order, so each comes with the features risk would have computed live.
 * Amounts are drawn as numbers and rounded once to integer minor units of the payer's currency.
 */
export const FRAUD_PATTERNS = ['stolen_card_burst', 'card_testing', 'account_takeover', 'mule_accounts'] as const;
export type FraudPattern = (typeof FRAUD_PATTERNS)[number];

export const SIMULATED_MERCHANT_CATEGORIES = ['grocery', 'retail', 'marketplace', 'travel', 'electronics', 'digital_goods', 'gift_cards', 'gaming'] as const;

export interface SimulationOptions {
  seed: number;
  payers: number;
  merchants: number;
  /** Ordinary traffic only, to give payers a history before anything is labelled. */
  warmupDays: number;
  /** Days with fraud mixed in; their payments are the labelled data set. */
  labelledDays: number;
  /** Fraud campaigns per labelled day, per pattern. */
  campaignsPerDay: Readonly<Record<FraudPattern, number>>;
  /** Midnight UTC of the first simulated day. */
  startMs: number;
}

export const DEFAULT_SIMULATION: SimulationOptions = {
  seed: 7,
  payers: 4_000,
  merchants: 80,
  warmupDays: 10,
  labelledDays: 10,
  campaignsPerDay: { stolen_card_burst: 8, card_testing: 3, account_takeover: 8, mule_accounts: 3 },
  startMs: Date.UTC(2025, 0, 6),
};

export interface SimulatedPayment {
  payment: RiskPayment;
  features: RiskFeatures;
  fraud: boolean;
  pattern: FraudPattern | 'ordinary';
  /** Part of the warm-up: it shaped the features of later payments but is not labelled data. */
  warmup: boolean;
}

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** Rough value of one major unit in euros, only to draw plausible amounts per currency. */
const CURRENCIES = [
  { code: 'EUR', perEuro: 1, share: 40, countries: ['DE', 'FR', 'ES', 'IT', 'NL'] },
  { code: 'USD', perEuro: 1.1, share: 22, countries: ['US'] },
  { code: 'GBP', perEuro: 0.86, share: 8, countries: ['GB'] },
  { code: 'JPY', perEuro: 160, share: 8, countries: ['JP'] },
  { code: 'VND', perEuro: 28_000, share: 8, countries: ['VN'] },
  { code: 'IDR', perEuro: 17_500, share: 8, countries: ['ID'] },
  { code: 'CLP', perEuro: 1_020, share: 6, countries: ['CL'] },
] as const;
const FOREIGN_COUNTRIES = ['RU', 'NG', 'BR', 'UA', 'CN', 'RO', 'VN', 'US', 'IN', 'TR'];
const METHODS = [['card', 55], ['wallet', 30], ['e_wallet', 10], ['mobile_money', 5]] as const;
const CHANNELS: Record<string, string> = { card: 'card_acquiring', wallet: 'e_wallet', e_wallet: 'e_wallet', mobile_money: 'mobile' };
const CATEGORY_SHARES = [['grocery', 25], ['retail', 20], ['marketplace', 15], ['travel', 8], ['electronics', 10], ['digital_goods', 10], ['gift_cards', 5], ['gaming', 7]] as const;

interface Merchant {
  id: string;
  category: string;
  popularity: number;
}

interface Payer {
  id: string;
  currency: (typeof CURRENCIES)[number];
  country: string;
  paymentsPerDay: number;
  typicalEuro: number;
  devices: string[];
  homeIp: string;
  cards: { fingerprint: string; country: string }[];
  favourites: Merchant[];
  prefersCard: boolean;
  /** Newcomers join during the labelled days; everyone else pays from the first simulated day. */
  newcomer: boolean;
  joinsAtMs: number;
}

type Draft = Omit<RiskPayment, 'paymentId'> & { fraud: boolean; pattern: FraudPattern | 'ordinary' };

export function simulateTraffic(options: SimulationOptions = DEFAULT_SIMULATION): SimulatedPayment[] {
  const random = new SeededRandom(options.seed);
  const merchants = makeMerchants(random, options.merchants);
  const labelledFromMs = options.startMs + options.warmupDays * DAY_MS;
  const endMs = labelledFromMs + options.labelledDays * DAY_MS;
  const payers = Array.from({ length: options.payers }, (_, index) => makePayer(random, index, merchants, options.startMs, labelledFromMs, endMs));
  const drafts: Draft[] = [];
  for (const payer of payers) drafts.push(...ordinaryPayments(random, payer, endMs));
  const context: FraudContext = { random, merchants, payers, drafts, sequence: 0 };
  for (let day = 0; day < options.labelledDays; day += 1) {
    const dayStartMs = labelledFromMs + day * DAY_MS;
    for (const pattern of FRAUD_PATTERNS) {
      for (let campaign = 0; campaign < options.campaignsPerDay[pattern]; campaign += 1) {
        FRAUD_GENERATORS[pattern](context, dayStartMs + random.next() * DAY_MS);
      }
    }
  }
  drafts.sort((left, right) => left.requestedAtMs - right.requestedAtMs);
  const store = new InMemoryFeatureStore();
  return drafts.map((draft, index) => {
    const { fraud, pattern, ...rest } = draft;
    const payment: RiskPayment = { paymentId: paymentIdOf(options.seed, index), ...rest };
    return { payment, features: store.observe(payment), fraud, pattern, warmup: draft.requestedAtMs < labelledFromMs };
  });
}

/** A uuid-shaped id derived from the seed and position, so data sets are reproducible. */
function paymentIdOf(seed: number, index: number): string {
  const hex = (value: number, width: number) => (value >>> 0).toString(16).padStart(width, '0').slice(-width);
  return `${hex(seed, 8)}-0000-4000-8000-${hex(Math.floor(index / 2 ** 32), 4)}${hex(index, 8)}`;
}

function makeMerchants(random: SeededRandom, count: number): Merchant[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `sim-merchant-${index}`,
    category: random.weighted(CATEGORY_SHARES),
    // Zipf-like: a few merchants take most of the traffic.
    popularity: 1 / (index + 1),
  }));
}

function makePayer(random: SeededRandom, index: number, merchants: Merchant[], startMs: number, labelledFromMs: number, endMs: number): Payer {
  const currency = random.weighted(CURRENCIES.map((entry) => [entry, entry.share] as const));
  const country = random.pick(currency.countries);
  const id = `sim-payer-${index}`;
  // Carrier-grade NAT: many payers share an address. A mobile carrier puts hundreds behind one or two
  // (busy addresses are ordinary), smaller pools a few dozen each; the rest have an address of their own.
  const homeIp = random.weighted([
    [`100.64.200.${random.integer(1, 2)}`, 25],
    [`100.64.0.${random.integer(1, 30)}`, 20],
    [`198.${(index >> 8) & 255}.${index & 255}.${random.integer(1, 254)}`, 55],
  ] as const);
  const cards = Array.from({ length: random.chance(0.3) ? 2 : 1 }, (_, card) => ({
    fingerprint: `card-${index}-${card}`,
    country: random.chance(0.04) ? random.pick(FOREIGN_COUNTRIES) : country,
  }));
  const favourites = Array.from({ length: random.integer(2, 6) }, () => pickMerchant(random, merchants));
  const newcomer = random.chance(0.1);
  // Households: some payers share a device (and so its cards) with the payer before them.
  const household = index > 0 && random.chance(0.1) ? [`sim-device-${index - 1}-0`] : [];
  return {
    id, currency, country, homeIp, cards, favourites,
    paymentsPerDay: Math.min(12, random.logNormal(0.7, 0.9)),
    typicalEuro: Math.min(800, random.logNormal(30, 0.8)),
    devices: [...Array.from({ length: random.chance(0.25) ? 2 : 1 }, (_, device) => `sim-device-${index}-${device}`), ...household],
    prefersCard: random.chance(0.55),
    newcomer,
    joinsAtMs: newcomer ? labelledFromMs + random.next() * (endMs - labelledFromMs) : startMs,
  };
}

function pickMerchant(random: SeededRandom, merchants: Merchant[]): Merchant {
  return random.weighted(merchants.map((merchant) => [merchant, merchant.popularity] as const));
}

function minorOf(euros: number, currency: (typeof CURRENCIES)[number]): bigint {
  const minorPerMajor = Number(currencyOf(currency.code).minorPerMajor);
  return BigInt(Math.max(1, Math.round(euros * currency.perEuro * minorPerMajor)));
}

function ordinaryPayments(random: SeededRandom, payer: Payer, endMs: number): Draft[] {
  const drafts: Draft[] = [];
  let devices = [...payer.devices];
  // A newcomer pays on joining and shops a little more within hours; then everyone keeps their rhythm.
  let timeMs = payer.newcomer ? payer.joinsAtMs : payer.joinsAtMs + random.exponential(DAY_MS / payer.paymentsPerDay);
  while (timeMs < endMs) {
    if (random.chance(0.02)) devices = [...devices, `${payer.devices[0]}-new-${drafts.length}`];
    const merchant = random.chance(0.8) ? random.pick(payer.favourites) : payer.favourites[0]!;
    const bigTicket = random.chance(0.03) ? random.logNormal(6, 0.6) : 1;
    const euros = Math.min(6_000, random.logNormal(payer.typicalEuro, 0.6) * bigTicket);
    const method = payer.prefersCard ? random.weighted([['card', 85], ['wallet', 15]] as const) : random.weighted(METHODS);
    const card = method === 'card' ? random.pick(payer.cards) : null;
    const travelling = random.chance(0.06);
    drafts.push({
      merchantId: merchant.id,
      payerAccountId: payer.id,
      amountMinor: minorOf(euros, payer.currency),
      currency: payer.currency.code,
      method,
      channel: CHANNELS[method]!,
      requestedAtMs: Math.floor(timeMs),
      deviceId: devices[devices.length - 1 - (random.chance(0.3) ? random.integer(0, devices.length - 1) : 0)]!,
      ipAddress: travelling ? `203.0.${random.integer(0, 255)}.${random.integer(1, 254)}` : payer.homeIp,
      cardFingerprint: card?.fingerprint ?? null,
      cardCountry: card?.country ?? null,
      ipCountry: travelling ? random.pick(FOREIGN_COUNTRIES) : payer.country,
      merchantCategory: merchant.category,
      fraud: false,
      pattern: 'ordinary',
    });
    // In-app purchases, top-ups and tips: a few small payments right after one another.
    if (random.chance(0.05)) drafts.push(...quickFollowUps(random, drafts[drafts.length - 1]!, payer));
    const settlingIn = payer.newcomer && drafts.length < 3;
    timeMs += random.exponential(settlingIn ? 2 * 3_600_000 : DAY_MS / payer.paymentsPerDay);
  }
  return drafts;
}

function quickFollowUps(random: SeededRandom, previous: Draft, payer: Payer): Draft[] {
  const followUps: Draft[] = [];
  let timeMs = previous.requestedAtMs;
  for (let count = random.integer(1, 4); count > 0; count -= 1) {
    timeMs += random.integer(3_000, 25_000);
    followUps.push({ ...previous, requestedAtMs: timeMs, amountMinor: minorOf(random.logNormal(Math.min(10, payer.typicalEuro), 0.5), payer.currency) });
  }
  return followUps;
}

interface FraudContext {
  random: SeededRandom;
  merchants: Merchant[];
  payers: Payer[];
  drafts: Draft[];
  sequence: number;
}

/** Half the campaigns rotate residential proxies: a fresh address per payment, the device stays. */
function addressesFor(random: SeededRandom, prefix: number): () => string {
  const fixed = `${prefix}.${random.integer(0, 255)}.${random.integer(0, 255)}.${random.integer(1, 254)}`;
  const rotate = random.chance(0.5);
  return () => (rotate ? `${prefix}.${random.integer(0, 255)}.${random.integer(0, 255)}.${random.integer(1, 254)}` : fixed);
}

function merchantIn(context: FraudContext, categories: readonly string[]): Merchant {
  const candidates = context.merchants.filter((merchant) => categories.includes(merchant.category));
  return context.random.pick(candidates.length > 0 ? candidates : context.merchants);
}

function establishedPayer(context: FraudContext): Payer {
  return context.random.pick(context.payers.filter((payer) => !payer.newcomer));
}

/** Burst of high-value payments on a stolen card, from a new account, a new device and a foreign IP. */
function stolenCardBurst(context: FraudContext, startMs: number): void {
  const { random } = context;
  const victim = establishedPayer(context);
  const card = random.pick(victim.cards);
  const campaign = `scb-${(context.sequence += 1)}`;
  // Careful fraudsters use a proxy in the card's country and an aged account bought from a mule.
  const ipCountry = random.chance(0.4) ? card.country : random.pick(FOREIGN_COUNTRIES.filter((country) => country !== card.country));
  const ip = addressesFor(random, 45);
  const payerAccountId = random.chance(0.3) ? establishedPayer(context).id : `sim-fraud-${campaign}`;
  let timeMs = startMs;
  for (let index = random.integer(2, 7); index > 0; index -= 1) {
    const merchant = merchantIn(context, ['electronics', 'gift_cards', 'digital_goods', 'marketplace']);
    context.drafts.push(fraudDraft({
      merchant, payerAccountId, amountMinor: minorOf(random.logNormal(250, 0.8), victim.currency), currency: victim.currency.code,
      method: 'card', timeMs, deviceId: `sim-device-${campaign}`, ipAddress: ip(), card, ipCountry, pattern: 'stolen_card_burst',
    }));
    timeMs += random.exponential(8 * MINUTE_MS);
  }
}

/** Many cards, tiny amounts, one device and IP, within minutes: checking which stolen cards work. */
function cardTesting(context: FraudContext, startMs: number): void {
  const { random } = context;
  const campaign = `ct-${(context.sequence += 1)}`;
  const currency = random.pick(CURRENCIES);
  const merchant = merchantIn(context, ['digital_goods', 'gaming', 'gift_cards']);
  const ip = addressesFor(random, 185);
  const accounts = random.integer(1, 3);
  let timeMs = startMs;
  for (let index = random.integer(8, 35); index > 0; index -= 1) {
    context.drafts.push(fraudDraft({
      merchant, payerAccountId: `sim-fraud-${campaign}-${index % accounts}`, amountMinor: minorOf(random.logNormal(1.5, 0.5), currency), currency: currency.code,
      method: 'card', timeMs, deviceId: `sim-device-${campaign}`, ipAddress: ip(),
      card: { fingerprint: `card-${campaign}-${index}`, country: random.pick(FOREIGN_COUNTRIES) }, ipCountry: random.pick(FOREIGN_COUNTRIES), pattern: 'card_testing',
    }));
    timeMs += random.exponential(20_000);
  }
}

/** An established account suddenly used from a new device abroad, for much more than its owner spends. */
function accountTakeover(context: FraudContext, startMs: number): void {
  const { random } = context;
  const victim = establishedPayer(context);
  const campaign = `ato-${(context.sequence += 1)}`;
  const ip = addressesFor(random, 91);
  // Some takeovers come through a local proxy, or from the victim's own device (malware, a stolen phone).
  const ipCountry = random.chance(0.4) ? victim.country : random.pick(FOREIGN_COUNTRIES.filter((country) => country !== victim.country));
  const deviceId = random.chance(0.25) ? victim.devices[0]! : `sim-device-${campaign}`;
  let timeMs = startMs;
  for (let index = random.integer(1, 4); index > 0; index -= 1) {
    const method = victim.prefersCard ? 'card' : random.weighted([['wallet', 60], ['e_wallet', 40]] as const);
    const card = method === 'card' ? random.pick(victim.cards) : null;
    context.drafts.push(fraudDraft({
      merchant: merchantIn(context, ['electronics', 'gift_cards', 'marketplace', 'travel']), payerAccountId: victim.id,
      amountMinor: minorOf(victim.typicalEuro * random.logNormal(4, 0.7), victim.currency), currency: victim.currency.code,
      method, timeMs, deviceId, ipAddress: ip(), card, ipCountry, pattern: 'account_takeover',
    }));
    timeMs += random.exponential(10 * MINUTE_MS);
  }
}

/** A ring of new accounts sharing devices and an address, moving mid-sized sums to resellable goods. */
function muleAccounts(context: FraudContext, startMs: number): void {
  const { random } = context;
  const campaign = `mule-${(context.sequence += 1)}`;
  const currency = random.pick(CURRENCIES);
  const country = random.pick(currency.countries);
  const devices = [`sim-device-${campaign}-0`, `sim-device-${campaign}-1`];
  const ip = addressesFor(random, 100);
  let timeMs = startMs;
  for (let account = random.integer(4, 9); account > 0; account -= 1) {
    // Some mules are real, aged accounts recruited for the ring.
    const payerAccountId = random.chance(0.4) ? establishedPayer(context).id : `sim-fraud-${campaign}-${account}`;
    for (let index = random.integer(1, 4); index > 0; index -= 1) {
      const method = random.weighted([['wallet', 50], ['e_wallet', 30], ['mobile_money', 20]] as const);
      context.drafts.push(fraudDraft({
        merchant: merchantIn(context, ['marketplace', 'gift_cards']), payerAccountId,
        amountMinor: minorOf(random.logNormal(300, 0.6), currency), currency: currency.code, method, timeMs,
        deviceId: random.pick(devices), ipAddress: ip(), card: null, ipCountry: country, pattern: 'mule_accounts',
      }));
      timeMs += random.exponential(15 * MINUTE_MS);
    }
  }
}

const FRAUD_GENERATORS: Record<FraudPattern, (context: FraudContext, startMs: number) => void> = {
  stolen_card_burst: stolenCardBurst,
  card_testing: cardTesting,
  account_takeover: accountTakeover,
  mule_accounts: muleAccounts,
};

function fraudDraft(input: {
  merchant: Merchant; payerAccountId: string; amountMinor: bigint; currency: string; method: string; timeMs: number;
  deviceId: string; ipAddress: string; card: { fingerprint: string; country: string } | null; ipCountry: string; pattern: FraudPattern;
}): Draft {
  return {
    merchantId: input.merchant.id,
    payerAccountId: input.payerAccountId,
    amountMinor: input.amountMinor,
    currency: input.currency,
    method: input.method,
    channel: CHANNELS[input.method]!,
    requestedAtMs: Math.floor(input.timeMs),
    deviceId: input.deviceId,
    ipAddress: input.ipAddress,
    cardFingerprint: input.card?.fingerprint ?? null,
    cardCountry: input.card?.country ?? null,
    ipCountry: input.ipCountry,
    merchantCategory: input.merchant.category,
    fraud: true,
    pattern: input.pattern,
  };
}
