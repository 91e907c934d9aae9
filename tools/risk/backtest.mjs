// Backtests a candidate rule set and/or model on a simulated day of traffic (seeded, labelled) against
// the live (shipped) ones: how many decisions change and which way, fraud caught, good payments lost.
// Live decisions are never touched. Usage:
//   npm run risk:backtest -- [--candidate-rules tools/risk/candidate-rule-set.json] [--candidate-model <file>] [--seed 21]
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
  },
});
const readJson = async (path) => JSON.parse(await readFile(join(root, path), 'utf8'));
const live = { ruleSet: parseRuleSet(await readJson(values['live-rules'])), model: parseRiskModel(await readJson(values['live-model'])) };
const candidate = {
  ruleSet: parseRuleSet(await readJson(values['candidate-rules'])),
  model: values['candidate-model'] ? parseRiskModel(await readJson(values['candidate-model'])) : live.model,
};

// A week of warm-up gives payers a history; the one labelled day after it is the day replayed.
const day = simulateTraffic({ ...DEFAULT_SIMULATION, seed: Number(values.seed), warmupDays: 7, labelledDays: 1 }).filter((entry) => !entry.warmup);
const history = day.map(({ payment, features, fraud }) => {
  const input = { payment, features };
  const decision = decideRisk(input, live);
  return { input, live: { outcome: decision.outcome, score: decision.score }, fraud };
});
const report = backtest(history, candidate);
console.log(`replayed ${report.payments} payments of one simulated day (seed ${values.seed}), ${report.labelled.fraud} of them fraud`);
console.log(`live ${live.ruleSet.version} + ${live.model.version} vs candidate ${candidate.ruleSet.version} + ${candidate.model.version}: ${report.changed} decisions change`);
for (const [transition, count] of Object.entries(report.transitions)) {
  const [from, to] = transition.split('->');
  if (from !== to && count > 0) console.log(`  ${transition}: ${count}`);
}
console.log(`fraud caught (declined or reviewed): live ${report.liveLabelled.fraudCaught}, candidate ${report.candidateLabelled.fraudCaught} of ${report.labelled.fraud}`);
console.log(`good payments declined: live ${report.liveLabelled.goodDeclined}, candidate ${report.candidateLabelled.goodDeclined}; sent to review: live ${report.liveLabelled.goodReviewed}, candidate ${report.candidateLabelled.goodReviewed}`);
console.log(JSON.stringify(report));
