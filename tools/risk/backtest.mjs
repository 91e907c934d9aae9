// Backtests a candidate rule set and/or model on a simulated day of traffic (seeded, labelled) against
// the live (shipped) ones: how many decisions change and which way, fraud caught, good payments lost.
// Live decisions are never touched. Usage:
//   npm run risk:backtest -- [--candidate-rules tools/risk/candidate-rule-set.json] [--candidate-model <file>] [--seed 21]
// With --from-event-store it replays the payments risk really decided instead: every risk-<paymentId>
// stream in DATABASE_URL's event store holds the live RiskAssessed and the inputs it used
// (RiskDecisionInputsRecorded), and risk.fraud_labels says which proved fraudulent. Read-only.
//   npm run risk:backtest -- --from-event-store [--since 2026-11-01T00:00:00Z] [--max-payments 1000000] [--candidate-rules ...]
import { readFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backtest, decideRisk, DEFAULT_SIMULATION, parseRiskModel, parseRuleSet, simulateTraffic } from '../../libs/risk-domain/dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '21' },
    'live-rules': { type: 'string', default: 'apps/risk/config/rule-set.json' },
    'live-model': { type: 'string', default: 'apps/risk/model/risk-model.json' },
    'candidate-rules': { type: 'string', default: 'tools/risk/candidate-rule-set.json' },
    'candidate-model': { type: 'string' },
    'from-event-store': { type: 'boolean', default: false },
    since: { type: 'string' },
    'max-payments': { type: 'string', default: '1000000' },
  },
});
const readJson = async (path) => JSON.parse(await readFile(join(root, path), 'utf8'));
const live = { ruleSet: parseRuleSet(await readJson(values['live-rules'])), model: parseRiskModel(await readJson(values['live-model'])) };
const candidate = {
  ruleSet: parseRuleSet(await readJson(values['candidate-rules'])),
  model: values['candidate-model'] ? parseRiskModel(await readJson(values['candidate-model'])) : live.model,
};

let history;
let source;
if (values['from-event-store']) {
  const since = values.since === undefined ? undefined : new Date(values.since);
  if (since !== undefined && Number.isNaN(since.getTime())) throw new Error(`--since must be an ISO 8601 time, got '${values.since}'`);
  const { createPool } = await import('@clearline/postgres');
  const { PostgresEventStore } = await import('@clearline/event-store');
  const { readHistoryFromEventStore } = await import('../../apps/risk/dist/event-store-history.js');
  const pool = createPool({ applicationName: 'clearline-risk-backtest', max: 2 });
  try {
    const read = await readHistoryFromEventStore(new PostgresEventStore(pool), pool, { since, maxPayments: Number(values['max-payments']) });
    history = read.payments;
    const database = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/clearline').pathname.slice(1);
    source = `payments from the event store of ${database}${since ? ` since ${since.toISOString()}` : ''}`
      + `${read.withoutInputs > 0 ? ` (${read.withoutInputs} older decisions have no recorded inputs and are left out)` : ''}${read.truncated ? ' (truncated at --max-payments)' : ''}`;
  } finally {
    await pool.end();
  }
} else {
  // A week of warm-up gives payers a history; the one labelled day after it is the day replayed.
  const day = simulateTraffic({ ...DEFAULT_SIMULATION, seed: Number(values.seed), warmupDays: 7, labelledDays: 1 }).filter((entry) => !entry.warmup);
  history = day.map(({ payment, features, fraud }) => {
    const input = { payment, features };
    const decision = decideRisk(input, live);
    return { input, live: { outcome: decision.outcome, score: decision.score }, fraud };
  });
  source = `payments of one simulated day (seed ${values.seed})`;
}
const report = backtest(history, candidate);
console.log(`replayed ${report.payments} ${source}, ${report.labelled.fraud} of them labelled fraud, ${report.labelled.good} good, ${report.labelled.unknown} unlabelled`);
console.log(`live ${values['from-event-store'] ? 'as decided' : `${live.ruleSet.version} + ${live.model.version}`} vs candidate ${candidate.ruleSet.version} + ${candidate.model?.version ?? 'no model'}: ${report.changed} decisions change`);
for (const [transition, count] of Object.entries(report.transitions)) {
  const [from, to] = transition.split('->');
  if (from !== to && count > 0) console.log(`  ${transition}: ${count}`);
}
console.log(`fraud caught (declined or reviewed): live ${report.liveLabelled.fraudCaught}, candidate ${report.candidateLabelled.fraudCaught} of ${report.labelled.fraud}`);
console.log(`good payments declined: live ${report.liveLabelled.goodDeclined}, candidate ${report.candidateLabelled.goodDeclined}; sent to review: live ${report.liveLabelled.goodReviewed}, candidate ${report.candidateLabelled.goodReviewed}`);
console.log(JSON.stringify(report));
