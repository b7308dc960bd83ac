// The scores of segmentation_models_pytorch's metrics.functional, from getStats' counts, with
// smp's reductions, class weights and zero-division rule. Each formula runs the same tensor ops
// in the same order and dtypes as smp's, so results equal smp's bit for bit on the same counts.
import { torch, type Tensor } from '../torch/index.js';
import { isFloatingDType } from '../torch/dtype.js';
import { checkFinite, invalidParameterError, readOptions, type OptionReader } from '../validate.js';
import type { Stats } from './stats.js';

/**
 * How per-image, per-class scores become one number, as in smp:
 * - 'micro': sum the counts over images and classes, then score (no zero-division rule: 0/0 is NaN, as in smp);
 * - 'macro': sum over images, score each class, average the classes;
 * - 'weighted': sum over images, score each class, weight the classes by classWeights;
 * - 'micro-imagewise': sum over classes, score each image, average the images;
 * - 'macro-imagewise': score each image and class, average over images, then over classes;
 * - 'weighted-imagewise': as smp computes it, the class-weighted 'macro-imagewise' divided by the number of classes;
 * - 'none' (or null, smp's default): the (N, C) scores.
 */
export type Reduction = 'micro' | 'macro' | 'weighted' | 'micro-imagewise' | 'macro-imagewise' | 'weighted-imagewise' | 'none';

/** The reductions, in smp's order. */
export const REDUCTIONS: readonly Reduction[] = [
  'micro',
  'macro',
  'weighted',
  'micro-imagewise',
  'macro-imagewise',
  'weighted-imagewise',
  'none',
];

/** Options of every score of metrics.functional. */
export interface MetricOptions {
  /** Default 'none' (smp's None). */
  reduction?: Reduction | null;
  /**
   * One non-negative weight per class, normalised to sum 1; needed by the 'weighted' reductions.
   * Given with 'macro' and 'macro-imagewise', smp multiplies by them too (then averages).
   */
  classWeights?: readonly number[] | null;
  /** The score where 0/0 happens: a number (default 1), or 'warn' for 0 with a one-time process warning. */
  zeroDivision?: number | 'warn';
}

/** Options of fbetaScore. */
export interface FbetaOptions extends MetricOptions {
  /** Weight of recall against precision (default 1). */
  beta?: number;
}

/** A score over getStats' counts: `f(stats, options)` or smp's `f(tp, fp, fn, tn, options)`. Returns a 0-d float32 tensor, or (N, C) for 'none'. */
export interface MetricFunction<O extends MetricOptions = MetricOptions> {
  (stats: Stats, options?: O): Tensor;
  (tp: Tensor, fp: Tensor, fn: Tensor, tn: Tensor, options?: O): Tensor;
}

type Formula = (tp: Tensor, fp: Tensor, fn: Tensor, tn: Tensor, beta: number) => Tensor;

const METRIC_KEYS = ['reduction', 'classWeights', 'zeroDivision'] as const;
const FBETA_KEYS = [...METRIC_KEYS, 'beta'] as const;

/** Checked MetricOptions. */
export interface MetricConfig {
  reduction: Reduction;
  classWeights: number[] | null;
  zeroDivision: number | 'warn';
  beta: number;
}

const DEFAULTS: MetricConfig = { reduction: 'none', classWeights: null, zeroDivision: 1, beta: 1 };

/**
 * Reads the metric options; what is not given comes from `fallback` (the Accumulator's
 * top-level options). `classes` (when known) checks the length of classWeights.
 */
export function readMetricConfig(o: OptionReader<object>, classes: number | null, fallback: MetricConfig = DEFAULTS): MetricConfig {
  const where = o.where;
  const r = o.get('reduction');
  const reduction = r === undefined ? fallback.reduction : r === null ? 'none' : o.choice('reduction', REDUCTIONS);
  const zd = o.get('zeroDivision');
  const zeroDivision = zd === undefined ? fallback.zeroDivision : zd === 'warn' ? 'warn' : o.number('zeroDivision');
  const b = o.get('beta');
  const beta = b === undefined ? fallback.beta : checkFinite(where, `${o.prefix}beta`, b, { min: 0 });
  const w = o.get('classWeights');
  let classWeights = w === undefined ? fallback.classWeights : null;
  if (w != null) {
    const expected = `an array of ${classes ?? 'C'} finite non-negative numbers (one per class) with a positive sum`;
    if (!Array.isArray(w) || !w.every((x) => typeof x === 'number'))
      throw invalidParameterError(where, `${o.prefix}classWeights`, expected, w);
    if (!w.every((x) => Number.isFinite(x) && x >= 0) || !(w.reduce((a, x) => a + x, 0) > 0))
      throw invalidParameterError(where, `${o.prefix}classWeights`, expected, w, RangeError);
    classWeights = [...w];
  }
  if (classWeights !== null && classes !== null) checkClassWeights(where, `${o.prefix}classWeights`, classWeights, classes);
  if (classWeights === null && reduction.startsWith('weighted'))
    throw invalidParameterError(where, `${o.prefix}classWeights`, `one weight per class for reduction '${reduction}'`, w);
  return { reduction, classWeights, zeroDivision, beta };
}

/** classWeights must hold one weight per class of the counts. */
export function checkClassWeights(where: string, name: string, weights: readonly number[], classes: number): void {
  if (weights.length !== classes)
    throw invalidParameterError(where, name, `an array of ${classes} numbers (one per class of the counts)`, weights, RangeError);
}

function statsArgs(where: string, args: unknown[]): [Tensor, Tensor, Tensor, Tensor, unknown] {
  const first = args[0];
  let counts: unknown[];
  let options: unknown;
  if (torch.isTensor(first)) {
    counts = args.slice(0, 4);
    options = args[4];
  } else if (first !== null && typeof first === 'object' && !Array.isArray(first)) {
    const s = first as Record<string, unknown>;
    counts = [s.tp, s.fp, s.fn, s.tn];
    options = args[1];
  } else {
    throw invalidParameterError(where, 'stats', 'the { tp, fp, fn, tn } of metrics.getStats, or four Tensors tp, fp, fn, tn', first);
  }
  const names = ['tp', 'fp', 'fn', 'tn'];
  counts.forEach((t, i) => {
    if (!torch.isTensor(t)) throw invalidParameterError(where, names[i]!, 'an integer Tensor of shape (N, C)', t);
    if (t.isDisposed) throw new Error(`${where}: ${names[i]} is a disposed Tensor`);
    if (isFloatingDType(t.dtype) || t.dtype === 'bool')
      throw invalidParameterError(where, names[i]!, 'an integer Tensor of shape (N, C)', `a ${t.dtype} tensor`);
  });
  const [tp, fp, fn, tn] = counts as Tensor[];
  const shape = tp!.shape;
  if (shape.length !== 2) throw new RangeError(`${where}: tp must have shape (N, C) as getStats returns it, got [${shape.join(', ')}]`);
  counts.forEach((t, i) => {
    const s = (t as Tensor).shape;
    if (s.length !== 2 || s[0] !== shape[0] || s[1] !== shape[1])
      throw new RangeError(`${where}: ${names[i]} shape [${s.join(', ')}] must equal tp shape [${shape.join(', ')}]`);
  });
  return [tp!, fp!, fn!, tn!, options];
}

let warnedZeroDivision = false;

/** smp's _handle_zero_division: NaN (0/0) becomes the zeroDivision value. */
function handleZeroDivision(x: Tensor, zeroDivision: number | 'warn'): Tensor {
  const nans = x.isnan();
  if (zeroDivision === 'warn' && !warnedZeroDivision && nans.any().item() === 1) {
    // Python's warnings show a warning once per place; a validation loop should not print one per batch.
    warnedZeroDivision = true;
    process.emitWarning('Zero division in metric calculation!', { type: 'RuntimeWarning', code: 'SEGKIT_METRIC_ZERO_DIVISION' });
  }
  return x.maskedFill(nans, zeroDivision === 'warn' ? 0 : zeroDivision);
}

/** smp's _compute_metric. Call inside tidy. */
export function reduceMetric(formula: Formula, tp: Tensor, fp: Tensor, fn: Tensor, tn: Tensor, c: MetricConfig): Tensor {
  const score = (a: Tensor, b: Tensor, d: Tensor, e: Tensor) => formula(a, b, d, e, c.beta);
  const zero = (x: Tensor) => handleZeroDivision(x, c.zeroDivision);
  let weights: Tensor | null = null;
  if (c.classWeights !== null) {
    const w = torch.tensor(Float32Array.from(c.classWeights), { device: tp.device });
    weights = w.div(w.sum());
  }
  const weigh = (x: Tensor) => (weights === null ? x : x.mul(weights));
  const sum = (t: Tensor, dim: number) => t.sum({ dim });
  switch (c.reduction) {
    case 'micro':
      return score(tp.sum(), fp.sum(), fn.sum(), tn.sum());
    case 'macro':
      return weigh(zero(score(sum(tp, 0), sum(fp, 0), sum(fn, 0), sum(tn, 0)))).mean();
    case 'weighted':
      return weigh(zero(score(sum(tp, 0), sum(fp, 0), sum(fn, 0), sum(tn, 0)))).sum();
    case 'micro-imagewise':
      return zero(score(sum(tp, 1), sum(fp, 1), sum(fn, 1), sum(tn, 1))).mean();
    case 'macro-imagewise':
    case 'weighted-imagewise':
      return weigh(zero(score(tp, fp, fn, tn)).mean({ dim: 0 })).mean();
    default:
      return zero(score(tp, fp, fn, tn));
  }
}

function metric<O extends MetricOptions>(name: string, formula: Formula, keys: readonly string[] = METRIC_KEYS): MetricFunction<O> {
  const where = `metrics.${name}`;
  const f = (...args: unknown[]): Tensor => {
    const [tp, fp, fn, tn, options] = statsArgs(where, args);
    const c = readMetricConfig(readOptions(where, options as object | undefined, keys), tp.shape[1]!);
    return torch.tidy(() => reduceMetric(formula, tp, fp, fn, tn, c));
  };
  Object.defineProperty(f, 'name', { value: name });
  return f as MetricFunction<O>;
}

// The formulas, written as smp writes them: an int64 sum stays exact, `/` of two int64 tensors
// is a float32 true division, and `(1 + beta ** 2) * tp` converts tp to float32 first.
const fbeta: Formula = (tp, fp, fn, _tn, beta) => {
  const b2 = beta * beta;
  const betaTp = tp.float().mul(1 + b2);
  const betaFn = fn.float().mul(b2);
  return betaTp.div(betaTp.add(betaFn).add(fp));
};
const iou: Formula = (tp, fp, fn) => tp.div(tp.add(fp).add(fn));
const acc: Formula = (tp, fp, fn, tn) => tp.add(tn).div(tp.add(fp).add(fn).add(tn));
const sens: Formula = (tp, _fp, fn) => tp.div(tp.add(fn));
const spec: Formula = (_tp, fp, _fn, tn) => tn.div(tn.add(fp));
const ppv: Formula = (tp, fp) => tp.div(tp.add(fp));
const npv: Formula = (_tp, _fp, fn, tn) => tn.div(tn.add(fn));
const fnr: Formula = (tp, fp, fn, tn, b) => sens(tp, fp, fn, tn, b).rsub(1);
const fpr: Formula = (tp, fp, fn, tn, b) => spec(tp, fp, fn, tn, b).rsub(1);

const bacc: Formula = (tp, fp, fn, tn, b) =>
  sens(tp, fp, fn, tn, b)
    .add(spec(tp, fp, fn, tn, b))
    .div(2);
const fdr: Formula = (tp, fp, fn, tn, b) => ppv(tp, fp, fn, tn, b).rsub(1);
const fomr: Formula = (tp, fp, fn, tn, b) => npv(tp, fp, fn, tn, b).rsub(1);
const plr: Formula = (tp, fp, fn, tn, b) => sens(tp, fp, fn, tn, b).div(fpr(tp, fp, fn, tn, b));
const nlr: Formula = (tp, fp, fn, tn, b) => fnr(tp, fp, fn, tn, b).div(spec(tp, fp, fn, tn, b));
const f1: Formula = (tp, fp, fn, tn) => fbeta(tp, fp, fn, tn, 1);

/** The formula of each score by name (smp's aliases precision and recall included), for the Accumulator. */
export const FORMULAS = {
  fbetaScore: fbeta,
  f1Score: f1,
  iouScore: iou,
  accuracy: acc,
  sensitivity: sens,
  specificity: spec,
  balancedAccuracy: bacc,
  positivePredictiveValue: ppv,
  negativePredictiveValue: npv,
  falseNegativeRate: fnr,
  falsePositiveRate: fpr,
  falseDiscoveryRate: fdr,
  falseOmissionRate: fomr,
  positiveLikelihoodRatio: plr,
  negativeLikelihoodRatio: nlr,
  precision: ppv,
  recall: sens,
} satisfies Record<string, Formula>;

/** The names of smp's scores (with its aliases precision and recall). */
export type MetricName = keyof typeof FORMULAS;

/** F-beta score: (1 + beta²) tp / ((1 + beta²) tp + beta² fn + fp). */
export const fbetaScore = metric<FbetaOptions>('fbetaScore', fbeta, FBETA_KEYS);
/** F1 score (Dice): 2 tp / (2 tp + fn + fp). */
export const f1Score = metric('f1Score', f1);
/** IoU (Jaccard index): tp / (tp + fp + fn). */
export const iouScore = metric('iouScore', iou);
/** Accuracy: (tp + tn) / (tp + fp + fn + tn). */
export const accuracy = metric('accuracy', acc);
/** Sensitivity, recall, true positive rate: tp / (tp + fn). */
export const sensitivity = metric('sensitivity', sens);
/** Specificity, true negative rate: tn / (tn + fp). */
export const specificity = metric('specificity', spec);
/** Balanced accuracy: (sensitivity + specificity) / 2. */
export const balancedAccuracy = metric('balancedAccuracy', bacc);
/** Precision, positive predictive value: tp / (tp + fp). */
export const positivePredictiveValue = metric('positivePredictiveValue', ppv);
/** Negative predictive value: tn / (tn + fn). */
export const negativePredictiveValue = metric('negativePredictiveValue', npv);
/** Miss rate, false negative rate: 1 - sensitivity. */
export const falseNegativeRate = metric('falseNegativeRate', fnr);
/** Fall-out, false positive rate: 1 - specificity. */
export const falsePositiveRate = metric('falsePositiveRate', fpr);
/** False discovery rate: 1 - precision. */
export const falseDiscoveryRate = metric('falseDiscoveryRate', fdr);
/** False omission rate: 1 - negative predictive value. */
export const falseOmissionRate = metric('falseOmissionRate', fomr);
/** Positive likelihood ratio: sensitivity / false positive rate. */
export const positiveLikelihoodRatio = metric('positiveLikelihoodRatio', plr);
/** Negative likelihood ratio: false negative rate / specificity. */
export const negativeLikelihoodRatio = metric('negativeLikelihoodRatio', nlr);
/** smp's alias of positivePredictiveValue. */
export const precision = positivePredictiveValue;
/** smp's alias of sensitivity. */
export const recall = sensitivity;
