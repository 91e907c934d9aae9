import { DEFAULT_REVIEW_TIMEOUT_OUTCOME, REVIEW_TIMEOUT_OUTCOMES, type ReviewTimeoutOutcome } from '@clearline/contracts';
import { isCurrencyCode, parseMoney } from '@clearline/money';
import { LIST_FIELDS, RULE_FEATURES, type ListField, type RuleFeatureKind } from './rule-features.js';

/**
 * A rule set is data (apps/risk/config/rule-set.json), versioned and checked before use. Rules run in
 * a fixed order, like Stripe Radar's: allow rules, then block rules, then review rules, then the
 * model's score against the thresholds. Within a phase a merchant's own rules run before the global
 * ones, and the first rule that matches decides. A merchant can also change the thresholds, the
 * large-amount limits, the fail policy and the review timeout's outcome, and switch global rules off.
 */
export const RULE_ACTIONS = ['allow', 'block', 'review'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

/** What happens when features or the model are unavailable: approve (open) or decline (closed). */
export const FAIL_POLICIES = ['open', 'closed'] as const;
export type FailPolicy = (typeof FAIL_POLICIES)[number];

export const CONDITION_OPERATORS = ['>', '>=', '<', '<=', '==', '!=', 'in'] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export interface Condition {
  feature: string;
  op: ConditionOperator;
  value: number | boolean | string | (number | string)[];
}

interface RuleBase {
  /** Also the reason code the decision carries when this rule fires. */
  id: string;
  action: RuleAction;
  description?: string;
}

/** Matches when the payment's field is one of the values (accounts, cards, devices, IPs, merchants). */
export interface ListRule extends RuleBase {
  list: ListField;
  values: string[];
}

/** Matches when every condition holds. */
export interface ConditionRule extends RuleBase {
  when: Condition[];
}

export type Rule = ListRule | ConditionRule;

export interface Thresholds {
  reviewFromScore: number;
  declineFromScore: number;
}

export interface MerchantOverride {
  failPolicy?: FailPolicy;
  reviewTimeoutOutcome?: ReviewTimeoutOutcome;
  thresholds?: Partial<Thresholds>;
  largeAmountMajor?: Record<string, string>;
  /** Global rule ids that do not apply to this merchant. */
  disableRules?: string[];
  rules?: Rule[];
}

export interface RuleSet {
  version: string;
  failPolicy: FailPolicy;
  /** What a payment in review becomes when no analyst decides before the payments service's review timeout. */
  reviewTimeoutOutcome: ReviewTimeoutOutcome;
  thresholds: Thresholds;
  /** Overrides of DEFAULT_LARGE_AMOUNT_MAJOR, in major units per currency. */
  largeAmountMajor: Record<string, string>;
  rules: Rule[];
  merchants: Record<string, MerchantOverride>;
}

/** The rule set as it applies to one merchant. */
export interface EffectiveRules {
  version: string;
  failPolicy: FailPolicy;
  reviewTimeoutOutcome: ReviewTimeoutOutcome;
  thresholds: Thresholds;
  largeAmountMajor: Record<string, string>;
  /** The merchant's rules first, then the global rules it did not switch off. */
  rules: Rule[];
}

export function rulesForMerchant(ruleSet: RuleSet, merchantId: string): EffectiveRules {
  const override = Object.hasOwn(ruleSet.merchants, merchantId) ? ruleSet.merchants[merchantId] : undefined;
  if (!override) {
    const { version, failPolicy, reviewTimeoutOutcome, thresholds, largeAmountMajor, rules } = ruleSet;
    return { version, failPolicy, reviewTimeoutOutcome, thresholds, largeAmountMajor, rules };
  }
  const disabled = new Set(override.disableRules ?? []);
  return {
    version: ruleSet.version,
    failPolicy: override.failPolicy ?? ruleSet.failPolicy,
    reviewTimeoutOutcome: override.reviewTimeoutOutcome ?? ruleSet.reviewTimeoutOutcome,
    thresholds: { ...ruleSet.thresholds, ...override.thresholds },
    largeAmountMajor: { ...ruleSet.largeAmountMajor, ...override.largeAmountMajor },
    rules: [...(override.rules ?? []), ...ruleSet.rules.filter((rule) => !disabled.has(rule.id))],
  };
}

export class RuleSetError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid rule set: ${problems.join('; ')}`);
    this.name = 'RuleSetError';
  }
}

const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const MAX_LIST_VALUES = 100_000;
const MAX_RULES = 500;
const OPERATORS_BY_KIND: Record<RuleFeatureKind, readonly ConditionOperator[]> = {
  number: ['>', '>=', '<', '<=', '==', '!=', 'in'],
  string: ['==', '!=', 'in'],
  boolean: ['==', '!='],
};

/** Checks a parsed rule set file; throws RuleSetError naming every problem with its path. */
export function parseRuleSet(candidate: unknown): RuleSet {
  const problems: string[] = [];
  if (!isObject(candidate)) throw new RuleSetError(['the rule set is not a JSON object']);
  checkKeys(candidate, ['version', 'failPolicy', 'reviewTimeoutOutcome', 'thresholds', 'largeAmountMajor', 'rules', 'merchants', 'description'], '', problems);
  if (typeof candidate['version'] !== 'string' || !IDENTIFIER.test(candidate['version'])) problems.push('version: must be an identifier (letters, digits, _ . : -)');
  checkFailPolicy(candidate['failPolicy'], 'failPolicy', problems);
  if (candidate['reviewTimeoutOutcome'] !== undefined) checkReviewTimeoutOutcome(candidate['reviewTimeoutOutcome'], 'reviewTimeoutOutcome', problems);
  checkThresholds(candidate['thresholds'], 'thresholds', true, problems);
  if (candidate['largeAmountMajor'] !== undefined) checkLargeAmounts(candidate['largeAmountMajor'], 'largeAmountMajor', problems);
  const rules = Array.isArray(candidate['rules']) ? candidate['rules'] : [];
  if (!Array.isArray(candidate['rules'])) problems.push('rules: must be an array');
  const globalIds = checkRules(rules, 'rules', new Set(), problems);
  const merchants = candidate['merchants'] ?? {};
  if (!isObject(merchants)) problems.push('merchants: must be an object keyed by merchant id');
  else for (const [merchantId, override] of Object.entries(merchants)) checkOverride(override, `merchants.${merchantId}`, globalIds, problems);
  if (problems.length > 0) throw new RuleSetError(problems);
  return {
    version: candidate['version'] as string,
    failPolicy: candidate['failPolicy'] as FailPolicy,
    reviewTimeoutOutcome: (candidate['reviewTimeoutOutcome'] as ReviewTimeoutOutcome | undefined) ?? DEFAULT_REVIEW_TIMEOUT_OUTCOME,
    thresholds: candidate['thresholds'] as Thresholds,
    largeAmountMajor: (candidate['largeAmountMajor'] as Record<string, string> | undefined) ?? {},
    rules: rules as Rule[],
    merchants: merchants as Record<string, MerchantOverride>,
  };
}

function checkOverride(override: unknown, path: string, globalIds: Set<string>, problems: string[]): void {
  if (!isObject(override)) {
    problems.push(`${path}: must be an object`);
    return;
  }
  checkKeys(override, ['failPolicy', 'reviewTimeoutOutcome', 'thresholds', 'largeAmountMajor', 'disableRules', 'rules'], path, problems);
  if (override['failPolicy'] !== undefined) checkFailPolicy(override['failPolicy'], `${path}.failPolicy`, problems);
  if (override['reviewTimeoutOutcome'] !== undefined) checkReviewTimeoutOutcome(override['reviewTimeoutOutcome'], `${path}.reviewTimeoutOutcome`, problems);
  if (override['thresholds'] !== undefined) checkThresholds(override['thresholds'], `${path}.thresholds`, false, problems);
  if (override['largeAmountMajor'] !== undefined) checkLargeAmounts(override['largeAmountMajor'], `${path}.largeAmountMajor`, problems);
  const disabled = override['disableRules'];
  if (disabled !== undefined) {
    if (!Array.isArray(disabled)) problems.push(`${path}.disableRules: must be an array of rule ids`);
    else disabled.forEach((id, index) => { if (!globalIds.has(id)) problems.push(`${path}.disableRules[${index}]: no global rule '${String(id)}'`); });
  }
  if (override['rules'] !== undefined) {
    if (!Array.isArray(override['rules'])) problems.push(`${path}.rules: must be an array`);
    else checkRules(override['rules'], `${path}.rules`, globalIds, problems);
  }
}

function checkFailPolicy(value: unknown, path: string, problems: string[]): void {
  if (!FAIL_POLICIES.includes(value as FailPolicy)) problems.push(`${path}: must be one of ${FAIL_POLICIES.join(', ')}, got ${JSON.stringify(value)}`);
}

function checkReviewTimeoutOutcome(value: unknown, path: string, problems: string[]): void {
  if (!REVIEW_TIMEOUT_OUTCOMES.includes(value as ReviewTimeoutOutcome)) {
    problems.push(`${path}: must be one of ${REVIEW_TIMEOUT_OUTCOMES.join(', ')}, got ${JSON.stringify(value)}`);
  }
}

function checkThresholds(value: unknown, path: string, required: boolean, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${path}: must be an object with reviewFromScore and declineFromScore`);
    return;
  }
  checkKeys(value, ['reviewFromScore', 'declineFromScore'], path, problems);
  for (const name of ['reviewFromScore', 'declineFromScore']) {
    const score = value[name];
    if (score === undefined && !required) continue;
    if (!Number.isInteger(score) || (score as number) < 0 || (score as number) > 101) problems.push(`${path}.${name}: must be an integer from 0 to 101 (101 never triggers)`);
  }
  const { reviewFromScore, declineFromScore } = value as Partial<Thresholds>;
  if (typeof reviewFromScore === 'number' && typeof declineFromScore === 'number' && reviewFromScore > declineFromScore) {
    problems.push(`${path}: reviewFromScore (${reviewFromScore}) must not be above declineFromScore (${declineFromScore})`);
  }
}

function checkLargeAmounts(value: unknown, path: string, problems: string[]): void {
  if (!isObject(value)) {
    problems.push(`${path}: must map currency codes to major-unit amounts such as "5000"`);
    return;
  }
  for (const [currency, amount] of Object.entries(value)) {
    if (!isCurrencyCode(currency)) {
      problems.push(`${path}.${currency}: unknown currency`);
      continue;
    }
    try {
      if (typeof amount !== 'string' || parseMoney(amount, currency).amountMinor <= 0n) problems.push(`${path}.${currency}: must be a positive major-unit amount as a string, such as "5000"`);
    } catch (error) {
      problems.push(`${path}.${currency}: ${(error as Error).message}`);
    }
  }
}

function checkRules(rules: unknown[], path: string, reservedIds: Set<string>, problems: string[]): Set<string> {
  const ids = new Set<string>();
  if (rules.length > MAX_RULES) problems.push(`${path}: at most ${MAX_RULES} rules`);
  rules.forEach((rule, index) => {
    const where = `${path}[${index}]`;
    if (!isObject(rule)) {
      problems.push(`${where}: must be an object`);
      return;
    }
    const id = rule['id'];
    if (typeof id !== 'string' || !IDENTIFIER.test(id)) problems.push(`${where}.id: must be an identifier (it becomes a reason code)`);
    else if (ids.has(id) || reservedIds.has(id)) problems.push(`${where}.id: '${id}' is used twice`);
    else ids.add(id);
    if (!RULE_ACTIONS.includes(rule['action'] as RuleAction)) problems.push(`${where}.action: must be one of ${RULE_ACTIONS.join(', ')}`);
    const hasList = 'list' in rule;
    const hasWhen = 'when' in rule;
    if (hasList === hasWhen) problems.push(`${where}: needs exactly one of 'list' (with 'values') or 'when'`);
    else if (hasList) {
      checkKeys(rule, ['id', 'action', 'description', 'list', 'values'], where, problems);
      checkList(rule, where, problems);
    } else {
      checkKeys(rule, ['id', 'action', 'description', 'when'], where, problems);
      checkConditions(rule['when'], `${where}.when`, problems);
    }
  });
  return ids;
}

function checkList(rule: Record<string, unknown>, where: string, problems: string[]): void {
  if (!LIST_FIELDS.includes(rule['list'] as ListField)) problems.push(`${where}.list: must be one of ${LIST_FIELDS.join(', ')}`);
  const values = rule['values'];
  if (!Array.isArray(values) || values.some((value) => typeof value !== 'string' || value.length === 0)) problems.push(`${where}.values: must be an array of non-empty strings`);
  else if (values.length > MAX_LIST_VALUES) problems.push(`${where}.values: at most ${MAX_LIST_VALUES} values`);
}

function checkConditions(conditions: unknown, path: string, problems: string[]): void {
  if (!Array.isArray(conditions) || conditions.length === 0) {
    problems.push(`${path}: must be a non-empty array of conditions`);
    return;
  }
  conditions.forEach((condition, index) => {
    const where = `${path}[${index}]`;
    if (!isObject(condition)) {
      problems.push(`${where}: must be an object with feature, op and value`);
      return;
    }
    checkKeys(condition, ['feature', 'op', 'value'], where, problems);
    const feature = RULE_FEATURES[String(condition['feature'])];
    if (!feature || !Object.hasOwn(RULE_FEATURES, String(condition['feature']))) {
      problems.push(`${where}.feature: unknown feature ${JSON.stringify(condition['feature'])}`);
      return;
    }
    const op = condition['op'] as ConditionOperator;
    if (!OPERATORS_BY_KIND[feature.kind].includes(op)) {
      problems.push(`${where}.op: ${JSON.stringify(op)} does not apply to ${feature.kind} feature '${String(condition['feature'])}' (use ${OPERATORS_BY_KIND[feature.kind].join(' ')})`);
      return;
    }
    const value = condition['value'];
    const matchesKind = (item: unknown) => (feature.kind === 'number' ? typeof item === 'number' && Number.isFinite(item) : typeof item === feature.kind);
    const valid = op === 'in' ? Array.isArray(value) && value.length > 0 && value.every(matchesKind) : matchesKind(value);
    if (!valid) problems.push(`${where}.value: must be ${op === 'in' ? `a non-empty array of ${feature.kind}s` : `a ${feature.kind}`} for '${String(condition['feature'])}'`);
  });
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: string, problems: string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problems.push(`${path ? `${path}.` : ''}${key}: unknown field (expected ${allowed.join(', ')})`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
