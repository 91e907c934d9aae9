import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseRiskModel, parseRuleSet, type RiskModel, type RuleSet } from '@clearline/risk-domain';
import type { Logger } from '@clearline/service-runtime';

/** Files under apps/risk, found from this module in src/ (tests) and dist/ (the service) alike. */
export const DEFAULT_RULE_SET_PATH = fileURLToPath(new URL('../config/rule-set.json', import.meta.url));
export const DEFAULT_MERCHANT_PROFILES_PATH = fileURLToPath(new URL('../config/merchant-profiles.json', import.meta.url));
export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('../model/risk-model.json', import.meta.url));

export interface MerchantProfile {
  category: string;
}

export interface RiskConfiguration {
  ruleSet: RuleSet;
  /** Null when the model file is missing or invalid: payments are then decided by rules and the fail policy. */
  model: RiskModel | null;
  merchantProfiles: ReadonlyMap<string, MerchantProfile>;
}

export class RiskConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RiskConfigurationError';
  }
}

/**
 * Reads the rule set, merchant profiles and model at boot (RISK_RULE_SET_PATH, RISK_MERCHANT_PROFILES_PATH,
 * RISK_MODEL_PATH override the shipped files). A bad rule set or profile file stops the service: it
 * would decide every payment wrongly. A bad or missing model does not: rules still run, and each
 * decision records that the model was unavailable and which fail policy applied.
 */
export function loadRiskConfiguration(logger: Logger, environment: NodeJS.ProcessEnv = process.env): RiskConfiguration {
  const ruleSetPath = environment['RISK_RULE_SET_PATH'] || DEFAULT_RULE_SET_PATH;
  const ruleSet = parseRuleSet(readJson(ruleSetPath, 'rule set'));
  const merchantProfiles = parseMerchantProfiles(readJson(environment['RISK_MERCHANT_PROFILES_PATH'] || DEFAULT_MERCHANT_PROFILES_PATH, 'merchant profiles'));
  const modelPath = environment['RISK_MODEL_PATH'] || DEFAULT_MODEL_PATH;
  let model: RiskModel | null = null;
  try {
    model = parseRiskModel(readJson(modelPath, 'model'));
  } catch (error) {
    logger.error({ err: error, modelPath }, 'risk model unavailable: decisions fall back to rules and the fail policy');
  }
  logger.info({ ruleSetVersion: ruleSet.version, modelVersion: model?.version ?? null, merchantProfiles: merchantProfiles.size }, 'risk configuration loaded');
  return { ruleSet, model, merchantProfiles };
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RiskConfigurationError(`cannot read the ${what} file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RiskConfigurationError(`the ${what} file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

const CATEGORY = /^[a-z][a-z0-9_]{0,39}$/;

export function parseMerchantProfiles(candidate: unknown): ReadonlyMap<string, MerchantProfile> {
  const merchants = (candidate as { merchants?: unknown } | null)?.merchants;
  if (typeof merchants !== 'object' || merchants === null || Array.isArray(merchants)) {
    throw new RiskConfigurationError('merchant profiles: expected { "merchants": { "<merchantId>": { "category": "..." } } }');
  }
  const profiles = new Map<string, MerchantProfile>();
  for (const [merchantId, profile] of Object.entries(merchants as Record<string, unknown>)) {
    const category = (profile as { category?: unknown } | null)?.category;
    if (typeof category !== 'string' || !CATEGORY.test(category)) {
      throw new RiskConfigurationError(`merchant profiles: merchants.${merchantId}.category must be a lower-case name such as "gift_cards"`);
    }
    profiles.set(merchantId, { category });
  }
  return profiles;
}
