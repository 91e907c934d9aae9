import type { ConnectorRail, ConnectorRoutes, LatencyProfile, OutageWindow } from '@clearline/connectors';
import { ConfigurationError, integerSetting } from '@clearline/service-runtime';

/**
 * The external rails' connectors this payments instance runs (docs/payments.md, "Connectors"): one
 * simulator per connector id, the routes per rail in order of preference, and the executor's bounds.
 * Read once at boot; a bad value stops the service with the variable named.
 *
 * - PAYMENTS_CONNECTORS: JSON `{ "<connectorId>": ConnectorSpec }`, merged field by field over the
 *   defaults (a primary and a backup per rail), so `{"card-primary":{"down":"unavailable"}}` is enough
 *   to take one down. A spec: `rail`, `seed`, `latencyMs` (a number, or `{ "min", "max" }`),
 *   `failureRate` and `lostReplyRate` (0..1), `outages` (`[{ "fromMs", "untilMs", "mode" }]`, epoch ms,
 *   mode `unavailable` or `unresponsive`), `down` (an outage from the epoch to the end of time).
 * - PAYMENTS_CONNECTOR_ROUTES: JSON `{ "<rail>": ["<connectorId>", ...] }`, replacing the default route of each rail named.
 * - PAYMENTS_CONNECTOR_ATTEMPT_TIMEOUT_MS (2 s), PAYMENTS_CONNECTOR_BUDGET_MS (10 s: all attempts,
 *   backoffs and fallbacks of one call), PAYMENTS_CONNECTOR_POLL_INTERVAL_MS (100 ms),
 *   PAYMENTS_CONNECTOR_BATCH_SIZE (20 calls at once), PAYMENTS_CONNECTOR_LEASE_MS (60 s: a call claimed
 *   by a crashed instance runs again after it).
 */
export interface ConnectorSpec {
  rail: ConnectorRail;
  seed: number;
  latency?: LatencyProfile;
  failureRate?: number;
  lostReplyRate?: number;
  outages: OutageWindow[];
}

export interface ConnectorSettings {
  connectors: Record<string, ConnectorSpec>;
  routes: ConnectorRoutes;
  attemptTimeoutMs: number;
  budgetMs: number;
  pollIntervalMs: number;
  batchSize: number;
  leaseMs: number;
}

export const DEFAULT_CONNECTOR_ROUTES: Readonly<Record<ConnectorRail, readonly string[]>> = {
  card: ['card-primary', 'card-backup'],
  e_wallet: ['e-wallet-primary', 'e-wallet-backup'],
  mobile_money: ['mobile-money-primary', 'mobile-money-backup'],
};

const RAILS: readonly ConnectorRail[] = ['card', 'e_wallet', 'mobile_money'];
/** Connector ids become part of ledger account ids (`clearing-<id>-<currency>`, at most 64 characters). */
const CONNECTOR_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,49}$/;
const FOREVER_MS = 8.64e15;

function defaultConnectors(): Record<string, ConnectorSpec> {
  const connectors: Record<string, ConnectorSpec> = {};
  let seed = 1;
  for (const rail of RAILS) for (const id of DEFAULT_CONNECTOR_ROUTES[rail]) connectors[id] = { rail, seed: seed++, outages: [] };
  return connectors;
}

export function connectorSettings(environment: NodeJS.ProcessEnv = process.env): ConnectorSettings {
  const connectors = defaultConnectors();
  for (const [id, raw] of Object.entries(jsonObject(environment, 'PAYMENTS_CONNECTORS'))) {
    if (!CONNECTOR_ID_PATTERN.test(id)) throw new ConfigurationError(`PAYMENTS_CONNECTORS: connector id '${id}' must match ${CONNECTOR_ID_PATTERN}`);
    connectors[id] = connectorSpec(id, raw, connectors[id]);
  }
  const routes: Record<string, readonly string[]> = { ...DEFAULT_CONNECTOR_ROUTES };
  for (const [rail, ids] of Object.entries(jsonObject(environment, 'PAYMENTS_CONNECTOR_ROUTES'))) {
    if (!(RAILS as readonly string[]).includes(rail)) throw new ConfigurationError(`PAYMENTS_CONNECTOR_ROUTES: unknown rail '${rail}'`);
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw new ConfigurationError(`PAYMENTS_CONNECTOR_ROUTES: '${rail}' must be a list of connector ids`);
    routes[rail] = ids as string[];
  }
  const attemptTimeoutMs = integerSetting(environment, 'PAYMENTS_CONNECTOR_ATTEMPT_TIMEOUT_MS', 2_000, 10, 60_000);
  const budgetMs = integerSetting(environment, 'PAYMENTS_CONNECTOR_BUDGET_MS', 10_000, attemptTimeoutMs, 120_000);
  return {
    connectors,
    routes: routes as ConnectorRoutes,
    attemptTimeoutMs,
    budgetMs,
    pollIntervalMs: integerSetting(environment, 'PAYMENTS_CONNECTOR_POLL_INTERVAL_MS', 100, 10, 60_000),
    batchSize: integerSetting(environment, 'PAYMENTS_CONNECTOR_BATCH_SIZE', 20, 1, 200),
    // The lease must outlast a whole call, or a second executor would run it while the first still does.
    leaseMs: integerSetting(environment, 'PAYMENTS_CONNECTOR_LEASE_MS', 60_000, budgetMs + 1_000, 3_600_000),
  };
}

function connectorSpec(id: string, raw: unknown, base: ConnectorSpec | undefined): ConnectorSpec {
  const where = `PAYMENTS_CONNECTORS['${id}']`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigurationError(`${where} must be an object`);
  const spec = raw as Record<string, unknown>;
  const rail = spec['rail'] ?? base?.rail;
  if (!(RAILS as readonly unknown[]).includes(rail)) throw new ConfigurationError(`${where}.rail must be one of ${RAILS.join(', ')}`);
  const result: ConnectorSpec = { ...(base ?? { seed: 1, outages: [] }), rail: rail as ConnectorRail };
  if (spec['seed'] !== undefined) result.seed = integerIn(spec['seed'], `${where}.seed`, 0, 2 ** 31);
  if (spec['latencyMs'] !== undefined) result.latency = latencyOf(spec['latencyMs'], `${where}.latencyMs`);
  if (spec['failureRate'] !== undefined) result.failureRate = probability(spec['failureRate'], `${where}.failureRate`);
  if (spec['lostReplyRate'] !== undefined) result.lostReplyRate = probability(spec['lostReplyRate'], `${where}.lostReplyRate`);
  if (spec['outages'] !== undefined) {
    if (!Array.isArray(spec['outages'])) throw new ConfigurationError(`${where}.outages must be a list`);
    result.outages = spec['outages'].map((outage, index) => outageOf(outage, `${where}.outages[${index}]`));
  }
  if (spec['down'] !== undefined) {
    result.outages = [...result.outages, { fromMs: 0, untilMs: FOREVER_MS, mode: modeOf(spec['down'], `${where}.down`) }];
  }
  return result;
}

function latencyOf(raw: unknown, where: string): LatencyProfile {
  if (typeof raw === 'number') return { kind: 'fixed', ms: integerIn(raw, where, 0, 60_000) };
  if (typeof raw === 'object' && raw !== null) {
    const { min, max } = raw as { min?: unknown; max?: unknown };
    const minMs = integerIn(min, `${where}.min`, 0, 60_000);
    return { kind: 'uniform', minMs, maxMs: integerIn(max, `${where}.max`, minMs, 60_000) };
  }
  throw new ConfigurationError(`${where} must be a number of ms or { "min", "max" }`);
}

function outageOf(raw: unknown, where: string): OutageWindow {
  if (typeof raw !== 'object' || raw === null) throw new ConfigurationError(`${where} must be { "fromMs", "untilMs", "mode" }`);
  const { fromMs, untilMs, mode } = raw as Record<string, unknown>;
  const from = integerIn(fromMs, `${where}.fromMs`, 0, FOREVER_MS);
  return { fromMs: from, untilMs: integerIn(untilMs, `${where}.untilMs`, from, FOREVER_MS), mode: modeOf(mode, `${where}.mode`) };
}

function modeOf(raw: unknown, where: string): OutageWindow['mode'] {
  if (raw === 'unavailable' || raw === 'unresponsive') return raw;
  throw new ConfigurationError(`${where} must be 'unavailable' or 'unresponsive'`);
}

function probability(raw: unknown, where: string): number {
  if (typeof raw !== 'number' || !(raw >= 0 && raw <= 1)) throw new ConfigurationError(`${where} must be a number in 0..1`);
  return raw;
}

function integerIn(raw: unknown, where: string, min: number, max: number): number {
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) throw new ConfigurationError(`${where} must be an integer in ${min}..${max}`);
  return raw;
}

function jsonObject(environment: NodeJS.ProcessEnv, name: string): Record<string, unknown> {
  const text = environment[name];
  if (text === undefined || text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigurationError(`${name} must be JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigurationError(`${name} must be a JSON object`);
  return parsed as Record<string, unknown>;
}
