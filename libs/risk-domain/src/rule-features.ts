import { ratioOf } from './amount-limits.js';
import {
  amountVersusHistory, VELOCITY_ENTITIES, VELOCITY_WINDOWS, type RiskFeatures, type RiskPayment,
} from './features.js';

/** What a rule condition can read; `features` is null when the feature store was unavailable. */
export interface RuleContext {
  payment: RiskPayment;
  features: RiskFeatures | null;
  /** The model's score; null when the model did not run. */
  score: number | null;
  /** The large-amount limit for this payment's currency under the rule set in force. */
  largeAmountLimitMinor: bigint;
}

export type RuleFeatureKind = 'number' | 'boolean' | 'string';
export type RuleValue = number | boolean | string | null;

interface RuleFeature {
  kind: RuleFeatureKind;
  read: (context: RuleContext) => RuleValue;
}

const number = (read: (context: RuleContext) => number | null): RuleFeature => ({ kind: 'number', read });
const boolean = (read: (context: RuleContext) => boolean | null): RuleFeature => ({ kind: 'boolean', read });
const string = (read: (context: RuleContext) => string | null): RuleFeature => ({ kind: 'string', read });

/** Amounts reach rules as ratios to the currency's large-amount limit, so one rule fits every currency. */
const toLimit = (context: RuleContext, amountMinor: bigint) => ratioOf(amountMinor, context.largeAmountLimitMinor);

function velocityFeatures(): Record<string, RuleFeature> {
  const entries: [string, RuleFeature][] = [];
  for (const entity of VELOCITY_ENTITIES) {
    for (const window of VELOCITY_WINDOWS) {
      entries.push([`velocity_${entity}_count_${window.name}`, number((context) => context.features?.velocity[entity]?.[window.name].count ?? null)]);
      entries.push([`velocity_${entity}_amount_${window.name}_to_large_limit`, number((context) => {
        const totals = context.features?.velocity[entity]?.[window.name];
        return totals ? toLimit(context, totals.amountMinor) : null;
      })]);
    }
  }
  return Object.fromEntries(entries);
}

/**
 * The names rule conditions may use. A condition on a value that is unknown (null) never matches:
 * a rule cannot fire on what risk does not know.
 */
export const RULE_FEATURES: Readonly<Record<string, RuleFeature>> = {
  score: number((context) => context.score),
  amount_above_large_limit: boolean((context) => context.payment.amountMinor > context.largeAmountLimitMinor),
  amount_to_large_limit: number((context) => toLimit(context, context.payment.amountMinor)),
  currency: string((context) => context.payment.currency),
  method: string((context) => context.payment.method),
  channel: string((context) => context.payment.channel),
  merchant_category: string((context) => context.payment.merchantCategory),
  country_mismatch: boolean(({ payment }) => (payment.cardCountry === null || payment.ipCountry === null ? null : payment.cardCountry !== payment.ipCountry)),
  ...velocityFeatures(),
  distinct_cards_device_1h: number((context) => context.features?.distinctCardsPerDevice?.last1h ?? null),
  distinct_cards_device_24h: number((context) => context.features?.distinctCardsPerDevice?.last24h ?? null),
  distinct_cards_ip_1h: number((context) => context.features?.distinctCardsPerIp?.last1h ?? null),
  distinct_cards_ip_24h: number((context) => context.features?.distinctCardsPerIp?.last24h ?? null),
  payer_previous_payments: number((context) => context.features?.payerHistory.previousCount ?? null),
  amount_ratio_to_payer_mean: number((context) => (context.features ? amountVersusHistory(context.payment.amountMinor, context.features.payerHistory).ratioToMean : null)),
  amount_zscore: number((context) => (context.features ? amountVersusHistory(context.payment.amountMinor, context.features.payerHistory).zScore : null)),
  account_age_hours: number((context) => (context.features?.accountAgeMs == null ? null : context.features.accountAgeMs / 3_600_000)),
  first_use_of_device: boolean((context) => context.features?.firstUseOfDevice ?? null),
};

/** The payment fields allow and block lists match on. */
export const LIST_FIELDS = ['payerAccountId', 'cardFingerprint', 'deviceId', 'ipAddress', 'merchantId'] as const;
export type ListField = (typeof LIST_FIELDS)[number];
