// Trains the risk model on the seeded transaction simulator's labelled data and writes the model file
// apps/risk loads. Prints progress while training, then AUC, precision and recall on a held-out split
// (the last 30% of the labelled days, so the model is judged on days it never saw). Same seed, same
// file. Usage: npm run risk:train -- [--seed 7] [--out apps/risk/model/risk-model.json]
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DEFAULT_INPUT_NAMES, DEFAULT_SIMULATION, evaluateModel, parseRiskModel, parseRuleSet, simulateTraffic, trainLogisticRegression,
} from '../../libs/risk-domain/dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: String(DEFAULT_SIMULATION.seed) },
    payers: { type: 'string', default: String(DEFAULT_SIMULATION.payers) },
    epochs: { type: 'string', default: '400' },
    out: { type: 'string', default: 'apps/risk/model/risk-model.json' },
    rules: { type: 'string', default: 'apps/risk/config/rule-set.json' },
  },
});
const seed = Number(values.seed);
const epochs = Number(values.epochs);
const HELD_OUT_SHARE = 0.3;

const ruleSet = parseRuleSet(JSON.parse(await readFile(join(root, values.rules), 'utf8')));
const { reviewFromScore, declineFromScore } = ruleSet.thresholds;

const started = performance.now();
const simulation = { ...DEFAULT_SIMULATION, seed, payers: Number(values.payers) };
const labelled = simulateTraffic(simulation).filter((payment) => !payment.warmup);
const splitAtMs = labelled[Math.floor(labelled.length * (1 - HELD_OUT_SHARE))].payment.requestedAtMs;
const trainSet = labelled.filter((payment) => payment.payment.requestedAtMs < splitAtMs);
const testSet = labelled.filter((payment) => payment.payment.requestedAtMs >= splitAtMs);
const fraudIn = (set) => set.filter((payment) => payment.fraud).length;
console.log(`simulated ${labelled.length} labelled payments (seed ${seed}) in ${Math.round(performance.now() - started)} ms: `
  + `train ${trainSet.length} (${fraudIn(trainSet)} fraud), held out ${testSet.length} (${fraudIn(testSet)} fraud)`);

const model = trainLogisticRegression(trainSet, {
  version: `risk-lr-seed${seed}`,
  inputNames: DEFAULT_INPUT_NAMES,
  epochs,
  learningRate: 0.05,
  l2: 0.001,
  onProgress: ({ epoch, logLoss }) => console.log(`training: epoch ${epoch}/${epochs} log-loss ${logLoss.toFixed(5)}`),
});
const evaluation = evaluateModel(model, testSet, [reviewFromScore, declineFromScore]);
const round = (value) => Math.round(value * 10_000) / 10_000;
const [review, decline] = evaluation.thresholds;
const figures = {
  auc: round(evaluation.auc),
  review: { fromScore: review.fromScore, precision: round(review.precision), recall: round(review.recall), falsePositiveRate: round(review.falsePositiveRate) },
  decline: { fromScore: decline.fromScore, precision: round(decline.precision), recall: round(decline.recall), falsePositiveRate: round(decline.falsePositiveRate) },
};
const withTraining = parseRiskModel({
  ...model,
  training: {
    generator: 'libs/risk-domain transaction-simulator (npm run risk:train)',
    seed, payers: simulation.payers, warmupDays: simulation.warmupDays, labelledDays: simulation.labelledDays,
    trainPayments: trainSet.length, trainFraud: fraudIn(trainSet), heldOutPayments: testSet.length, heldOutFraud: fraudIn(testSet),
    epochs, learningRate: 0.05, l2: 0.001, heldOut: figures,
  },
});
const outPath = join(root, values.out);
await mkdir(dirname(outPath), { recursive: true });
await writeFile(outPath, `${JSON.stringify(withTraining, null, 2)}\n`);
console.log(`held-out AUC ${figures.auc.toFixed(4)}`);
console.log(`score >= ${review.fromScore} (review or worse): precision ${review.precision.toFixed(4)} recall ${review.recall.toFixed(4)} false-positive rate ${review.falsePositiveRate.toFixed(5)}`);
console.log(`score >= ${decline.fromScore} (decline):         precision ${decline.precision.toFixed(4)} recall ${decline.recall.toFixed(4)} false-positive rate ${decline.falsePositiveRate.toFixed(5)}`);
console.log(`wrote ${relative(root, outPath)} in ${Math.round(performance.now() - started)} ms`);
console.log(JSON.stringify({ model: withTraining.version, ...figures }));
