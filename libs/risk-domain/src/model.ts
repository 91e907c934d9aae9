import { largeAmountLimitMinor, ratioOf } from './amount-limits.js';
import { amountVersusHistory, type EntityVelocity, type RiskFeatures, type RiskPayment, type VelocityWindowName } from './features.js';

/**
 * The trained model: logistic regression over standardised inputs. Inference lives here; the
 * weights are data (apps/risk/model/risk-model.json, written by `npm run risk:train`). Each input has
 * a name that is also its reason code, so the inputs that pushed a score up explain the decision.
 */
export const RISK_MODEL_FORMAT = 'clearline-risk-logistic-regression-1';

export interface ModelInput {
  /** An encoder name from MODEL_ENCODERS, or `merchant_category_<category>`. */
  name: string;
  /** Standardisation learnt on the training set: (value - mean) / scale. */
  mean: number;
  scale: number;
  weight: number;
}

export interface RiskModel {
  format: typeof RISK_MODEL_FORMAT;
  version: string;
  intercept: number;
  inputs: ModelInput[];
  /** How the model was made and how it scored on held-out data; informative, not used for scoring. */
  training?: Record<string, unknown>;
}

export interface Contribution {
  feature: string;
  /** The input's share of the log-odds: weight * standardised value. */
  contribution: number;
  /** True when the value is above the training mean: the input is present or high, not absent or low. */
  aboveMean: boolean;
}

export interface ModelScore {
  probability: number;
  /** round(100 * probability): 0-100. */
  score: number;
  /** Every input, the largest push towards fraud first. */
  contributions: Contribution[];
}

const MERCHANT_CATEGORY_PREFIX = 'merchant_category_';

/** Counts other than this payment, on a log scale: 0 for a first payment. */
const earlier = (velocity: EntityVelocity | null, window: VelocityWindowName) => Math.log1p(Math.max(0, (velocity?.[window].count ?? 1) - 1));

/** An amount relative to the currency's default large amount (about 5,000 EUR), on a log scale. */
function amountScale(amountMinor: bigint, currency: string): number {
  return Math.log1p(10 * ratioOf(amountMinor, largeAmountLimitMinor(currency)));
}

const distinctOthers = (count: number | undefined) => Math.log1p(Math.max(0, (count ?? 1) - 1));

type Encoder = (payment: RiskPayment, features: RiskFeatures) => number;

/**
 * Every input a model may use. Unknown values encode as the "nothing seen" value (0), and
 * indicators (`non_card_payment`, `no_payer_history`) let the model tell unknown from small.
 */
export const MODEL_ENCODERS: Readonly<Record<string, Encoder>> = {
  amount_large: (payment) => amountScale(payment.amountMinor, payment.currency),
  velocity_payer_1m: (_payment, features) => earlier(features.velocity.payer, '1m'),
  velocity_payer_1h: (_payment, features) => earlier(features.velocity.payer, '1h'),
  velocity_payer_24h: (_payment, features) => earlier(features.velocity.payer, '24h'),
  velocity_payer_amount_24h: (payment, features) => amountScale(features.velocity.payer?.['24h'].amountMinor ?? payment.amountMinor, payment.currency),
  velocity_card_1m: (_payment, features) => earlier(features.velocity.card, '1m'),
  velocity_card_1h: (_payment, features) => earlier(features.velocity.card, '1h'),
  velocity_card_24h: (_payment, features) => earlier(features.velocity.card, '24h'),
  velocity_device_1h: (_payment, features) => earlier(features.velocity.device, '1h'),
  velocity_device_24h: (_payment, features) => earlier(features.velocity.device, '24h'),
  velocity_ip_1h: (_payment, features) => earlier(features.velocity.ip, '1h'),
  velocity_ip_24h: (_payment, features) => earlier(features.velocity.ip, '24h'),
  velocity_merchant_1m: (_payment, features) => earlier(features.velocity.merchant, '1m'),
  distinct_cards_device_1h: (_payment, features) => distinctOthers(features.distinctCardsPerDevice?.last1h),
  distinct_cards_device_24h: (_payment, features) => distinctOthers(features.distinctCardsPerDevice?.last24h),
  distinct_cards_ip_1h: (_payment, features) => distinctOthers(features.distinctCardsPerIp?.last1h),
  distinct_cards_ip_24h: (_payment, features) => distinctOthers(features.distinctCardsPerIp?.last24h),
  amount_vs_history: (payment, features) => {
    const { ratioToMean } = amountVersusHistory(payment.amountMinor, features.payerHistory);
    return ratioToMean === null ? 0 : clamp(Math.log(Math.max(ratioToMean, 0.001)), -3, 5);
  },
  amount_zscore: (payment, features) => clamp(amountVersusHistory(payment.amountMinor, features.payerHistory).zScore ?? 0, -3, 10),
  no_payer_history: (_payment, features) => (features.payerHistory.previousCount === 0 ? 1 : 0),
  new_account: (_payment, features) => (features.accountAgeMs === null ? 0 : 1 / (1 + features.accountAgeMs / 86_400_000)),
  first_use_of_device: (_payment, features) => (features.firstUseOfDevice === true ? 1 : 0),
  non_card_payment: (payment) => (payment.cardFingerprint === null ? 1 : 0),
  country_mismatch: (payment) => (payment.cardCountry !== null && payment.ipCountry !== null && payment.cardCountry !== payment.ipCountry ? 1 : 0),
};

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function encoderFor(name: string): Encoder | undefined {
  if (name.startsWith(MERCHANT_CATEGORY_PREFIX)) {
    const category = name.slice(MERCHANT_CATEGORY_PREFIX.length);
    return (payment) => (payment.merchantCategory === category ? 1 : 0);
  }
  return MODEL_ENCODERS[name];
}

/** The raw (unstandardised) value of every named input for a payment. */
export function encodeInputs(names: readonly string[], payment: RiskPayment, features: RiskFeatures): number[] {
  return names.map((name) => {
    const encode = encoderFor(name);
    if (!encode) throw new RiskModelError([`unknown model input '${name}'`]);
    return encode(payment, features);
  });
}

export function scoreWithModel(model: RiskModel, payment: RiskPayment, features: RiskFeatures): ModelScore {
  const values = encodeInputs(model.inputs.map((input) => input.name), payment, features);
  const contributions = model.inputs.map((input, index) => ({
    feature: input.name,
    contribution: (input.weight * ((values[index] ?? 0) - input.mean)) / input.scale,
    aboveMean: (values[index] ?? 0) > input.mean,
  }));
  const logit = contributions.reduce((sum, entry) => sum + entry.contribution, model.intercept);
  const probability = 1 / (1 + Math.exp(-logit));
  contributions.sort((left, right) => right.contribution - left.contribution || left.feature.localeCompare(right.feature));
  return { probability, score: Math.round(100 * probability), contributions };
}

export class RiskModelError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid risk model: ${problems.join('; ')}`);
    this.name = 'RiskModelError';
  }
}

/** Checks a parsed model file; throws RiskModelError naming every problem. */
export function parseRiskModel(candidate: unknown): RiskModel {
  const problems: string[] = [];
  if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) throw new RiskModelError(['the model is not a JSON object']);
  const model = candidate as Partial<RiskModel>;
  if (model.format !== RISK_MODEL_FORMAT) problems.push(`format must be '${RISK_MODEL_FORMAT}', got ${JSON.stringify(model.format)}`);
  if (typeof model.version !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/.test(model.version)) problems.push('version must be an identifier (letters, digits, _ . : -)');
  if (!isFiniteNumber(model.intercept)) problems.push('intercept must be a finite number');
  if (!Array.isArray(model.inputs) || model.inputs.length === 0) problems.push('inputs must be a non-empty array');
  const seen = new Set<string>();
  (Array.isArray(model.inputs) ? model.inputs : []).forEach((input: Partial<ModelInput>, index) => {
    const where = `inputs[${index}]`;
    if (typeof input?.name !== 'string' || !encoderFor(input.name)) problems.push(`${where}.name ${JSON.stringify(input?.name)} is not a known model input`);
    else if (seen.has(input.name)) problems.push(`${where}.name '${input.name}' appears twice`);
    else seen.add(input.name);
    if (!isFiniteNumber(input?.mean)) problems.push(`${where}.mean must be a finite number`);
    if (!isFiniteNumber(input?.scale) || input.scale <= 0) problems.push(`${where}.scale must be a positive number`);
    if (!isFiniteNumber(input?.weight)) problems.push(`${where}.weight must be a finite number`);
  });
  if (problems.length > 0) throw new RiskModelError(problems);
  return model as RiskModel;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
