import type { RiskFeatures, RiskPayment } from './features.js';
import { encodeInputs, MODEL_ENCODERS, RISK_MODEL_FORMAT, scoreWithModel, type RiskModel } from './model.js';

/**
 * Offline training of the logistic-regression model: standardise each input on the training set,
 * then full-batch gradient descent with Adam and a little L2. Deterministic: the same examples in
 * the same order give the same weights, and they are rounded to 6 significant digits so the model
 * file is stable and readable in a diff.
 */
export interface TrainingExample {
  payment: RiskPayment;
  features: RiskFeatures;
  fraud: boolean;
}

export interface TrainingOptions {
  version: string;
  inputNames: readonly string[];
  epochs: number;
  learningRate: number;
  /** L2 penalty on the weights (not the intercept). */
  l2: number;
  /** Called every `progressEvery` epochs with the training log-loss. */
  onProgress?: (progress: { epoch: number; epochs: number; logLoss: number }) => void;
  progressEvery?: number;
  training?: Record<string, unknown>;
}

/** Merchant categories the default model encodes (grocery and retail are the baseline). */
export const MODEL_MERCHANT_CATEGORIES = ['marketplace', 'travel', 'electronics', 'digital_goods', 'gift_cards', 'gaming'];

export const DEFAULT_INPUT_NAMES: readonly string[] = [
  ...Object.keys(MODEL_ENCODERS),
  ...MODEL_MERCHANT_CATEGORIES.map((category) => `merchant_category_${category}`),
];

export function trainLogisticRegression(examples: readonly TrainingExample[], options: TrainingOptions): RiskModel {
  if (examples.length === 0) throw new RangeError('training needs at least one example');
  const rows = examples.map((example) => encodeInputs(options.inputNames, example.payment, example.features));
  const labels = examples.map((example) => (example.fraud ? 1 : 0));
  const width = options.inputNames.length;
  const means = new Array<number>(width).fill(0);
  const scales = new Array<number>(width).fill(0);
  for (const row of rows) row.forEach((value, column) => { means[column]! += value / rows.length; });
  for (const row of rows) row.forEach((value, column) => { scales[column]! += (value - means[column]!) ** 2 / rows.length; });
  const roundedMeans = means.map(round6);
  const roundedScales = scales.map((variance) => round6(variance > 1e-12 ? Math.sqrt(variance) : 1));
  const standardised = rows.map((row) => row.map((value, column) => (value - roundedMeans[column]!) / roundedScales[column]!));

  // Adam state: weights[0] is the intercept.
  const weights = new Array<number>(width + 1).fill(0);
  const firstMoment = new Array<number>(width + 1).fill(0);
  const secondMoment = new Array<number>(width + 1).fill(0);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const progressEvery = options.progressEvery ?? Math.max(1, Math.floor(options.epochs / 10));
  for (let epoch = 1; epoch <= options.epochs; epoch += 1) {
    const gradient = new Array<number>(width + 1).fill(0);
    let logLoss = 0;
    standardised.forEach((row, index) => {
      const logit = row.reduce((sum, value, column) => sum + value * weights[column + 1]!, weights[0]!);
      const probability = 1 / (1 + Math.exp(-logit));
      const label = labels[index]!;
      logLoss -= label * Math.log(Math.max(probability, 1e-12)) + (1 - label) * Math.log(Math.max(1 - probability, 1e-12));
      const error = probability - label;
      gradient[0]! += error;
      row.forEach((value, column) => { gradient[column + 1]! += error * value; });
    });
    for (let parameter = 0; parameter <= width; parameter += 1) {
      const penalty = parameter === 0 ? 0 : options.l2 * weights[parameter]!;
      const step = gradient[parameter]! / rows.length + penalty;
      firstMoment[parameter] = beta1 * firstMoment[parameter]! + (1 - beta1) * step;
      secondMoment[parameter] = beta2 * secondMoment[parameter]! + (1 - beta2) * step * step;
      const corrected1 = firstMoment[parameter]! / (1 - beta1 ** epoch);
      const corrected2 = secondMoment[parameter]! / (1 - beta2 ** epoch);
      weights[parameter]! -= (options.learningRate * corrected1) / (Math.sqrt(corrected2) + 1e-8);
    }
    if (options.onProgress && (epoch % progressEvery === 0 || epoch === options.epochs)) options.onProgress({ epoch, epochs: options.epochs, logLoss: logLoss / rows.length });
  }
  return {
    format: RISK_MODEL_FORMAT,
    version: options.version,
    intercept: round6(weights[0]!),
    inputs: options.inputNames.map((name, column) => ({ name, mean: roundedMeans[column]!, scale: roundedScales[column]!, weight: round6(weights[column + 1]!) })),
    ...(options.training ? { training: options.training } : {}),
  };
}

function round6(value: number): number {
  return value === 0 ? 0 : Number(value.toPrecision(6));
}

/**
 * Area under the ROC curve: the chance that a random fraud scores above a random good payment
 * (ties count half). Computed from ranks (Mann-Whitney U), O(n log n).
 */
export function areaUnderCurve(scores: readonly number[], fraud: readonly boolean[]): number {
  const order = scores.map((score, index) => ({ score, fraud: fraud[index]! })).sort((left, right) => left.score - right.score);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end < order.length && order[end]!.score === order[start]!.score) end += 1;
    const averageRank = (start + 1 + end) / 2;
    for (let index = start; index < end; index += 1) {
      if (order[index]!.fraud) {
        positives += 1;
        rankSum += averageRank;
      }
    }
    start = end;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface ThresholdMetrics {
  fromScore: number;
  /** Of the payments at or above the score, the share that is fraud. */
  precision: number;
  /** Of the fraud, the share at or above the score. */
  recall: number;
  /** Of the good payments, the share at or above the score. */
  falsePositiveRate: number;
}

export interface ModelEvaluation {
  payments: number;
  fraud: number;
  auc: number;
  thresholds: ThresholdMetrics[];
}

export function evaluateModel(model: RiskModel, examples: readonly TrainingExample[], fromScores: readonly number[]): ModelEvaluation {
  const scores = examples.map((example) => scoreWithModel(model, example.payment, example.features).probability);
  const labels = examples.map((example) => example.fraud);
  const fraudCount = labels.filter(Boolean).length;
  const thresholds = fromScores.map((fromScore) => {
    let flagged = 0;
    let caught = 0;
    examples.forEach((_example, index) => {
      if (Math.round(100 * scores[index]!) >= fromScore) {
        flagged += 1;
        if (labels[index]) caught += 1;
      }
    });
    const goodCount = examples.length - fraudCount;
    return {
      fromScore,
      precision: flagged === 0 ? 0 : caught / flagged,
      recall: fraudCount === 0 ? 0 : caught / fraudCount,
      falsePositiveRate: goodCount === 0 ? 0 : (flagged - caught) / goodCount,
    };
  });
  return { payments: examples.length, fraud: fraudCount, auc: areaUnderCurve(scores, labels), thresholds };
}
