// Object-level precision, recall and F1 between buildings, as SpaceNet scores them: objects are
// the connected components of the masks, a prediction and a truth object match when their IoU
// is at least the threshold, and matching is one-to-one and greedy by IoU.
//
// SpaceNet's tools (v1's evalTools, solaris' Evaluator) take the proposals one by one and match
// each to its best remaining truth. Here all pairs are taken best IoU first. For thresholds of
// 0.5 and above the two agree: an object can overlap at most one other by IoU > 0.5, so every
// match is forced (they can differ only on ties at exactly 0.5; solaris also needs IoU > 0.5
// where SpaceNet v1 and this module take >= 0.5).
import type { Tensor } from '../torch/index.js';
import { readOptions, type OptionReader } from '../validate.js';
import { CONNECTIVITIES, checkMask, label, type Components, type ComponentsOptions } from './components.js';
import { MASK_KEYS, binaryMasks, type MaskOptions } from './masks.js';
import { readStatsConfig } from './stats.js';

/** Options of matchObjects. */
export interface ObjectMatchOptions extends ComponentsOptions {
  /** Minimum IoU of a match (default 0.5, SpaceNet's). */
  iouThreshold?: number;
}

/** One matched pair: object labels (1-based, as connectedComponents numbers them) and their IoU. */
export interface ObjectPair {
  pred: number;
  truth: number;
  iou: number;
}

/** Object counts and scores. With no prediction precision is 1, with no truth recall is 1 (0/0 counts as 1). */
export interface ObjectScore {
  /** Matched predictions. */
  tp: number;
  /** Unmatched predictions. */
  fp: number;
  /** Unmatched truth objects. */
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

/** matchObjects' result: the scores, how many objects each side has, and the matched pairs. */
export interface ObjectMatch extends ObjectScore {
  predCount: number;
  truthCount: number;
  matches: ObjectPair[];
}

/** SpaceNet's. */
export const DEFAULT_IOU_THRESHOLD = 0.5;
/** The option keys of the object matching. */
export const OBJECT_KEYS = ['iouThreshold', 'connectivity'] as const;

/** Precision, recall and F1 from the counts; 0/0 counts as 1 (no predictions: precision 1; no truth: recall 1). */
export function objectScores(tp: number, fp: number, fn: number): ObjectScore {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { tp, fp, fn, precision, recall, f1 };
}

/** Reads iouThreshold and connectivity (objectScore's and the Accumulator's `objects` options). */
export function readObjectConfig(o: OptionReader<object>): { iouThreshold: number; eight: boolean } {
  const iouThreshold = o.number('iouThreshold', DEFAULT_IOU_THRESHOLD, { min: 0, max: 1, exclusive: 'min' });
  return { iouThreshold, eight: o.choice('connectivity', CONNECTIVITIES, 4) === 8 };
}

/** Matches labelled objects one to one, best IoU first (ties: lower prediction label, then lower truth label). */
export function matchComponents(pred: Components, truth: Components, iouThreshold: number): ObjectMatch {
  const stride = truth.count + 1;
  const overlap = new Map<number, number>();
  const P = pred.labels;
  const T = truth.labels;
  // Objects run along rows, so consecutive pixels mostly share a pair: count runs, not pixels.
  let key = -1;
  let run = 0;
  for (let i = 0; i < P.length; i++) {
    const p = P[i];
    const t = T[i];
    const k = p !== 0 && t !== 0 ? p * stride + t : -1;
    if (k === key) {
      run++;
      continue;
    }
    if (key >= 0) overlap.set(key, (overlap.get(key) ?? 0) + run);
    key = k;
    run = 1;
  }
  if (key >= 0) overlap.set(key, (overlap.get(key) ?? 0) + run);
  const pairs: ObjectPair[] = [];
  for (const [k, inter] of overlap) {
    const p = Math.floor(k / stride);
    const t = k - p * stride;
    const iou = inter / (pred.areas[p - 1] + truth.areas[t - 1] - inter);
    if (iou >= iouThreshold) pairs.push({ pred: p, truth: t, iou });
  }
  return greedyMatch(pairs, pred.count, truth.count);
}

/**
 * One-to-one matching of candidate pairs (IoU at or above the threshold), best IoU first; ties go
 * to the lower prediction, then the lower truth. `pred` and `truth` ids must be below the counts + 1.
 */
export function greedyMatch(pairs: ObjectPair[], predCount: number, truthCount: number): ObjectMatch {
  pairs.sort((a, b) => b.iou - a.iou || a.pred - b.pred || a.truth - b.truth);
  const predUsed = new Uint8Array(predCount + 1);
  const truthUsed = new Uint8Array(truthCount + 1);
  const matches: ObjectPair[] = [];
  for (const m of pairs) {
    if (predUsed[m.pred] || truthUsed[m.truth]) continue;
    predUsed[m.pred] = 1;
    truthUsed[m.truth] = 1;
    matches.push(m);
  }
  const tp = matches.length;
  return { ...objectScores(tp, predCount - tp, truthCount - tp), predCount, truthCount, matches };
}

/**
 * Object-level match of one prediction mask against one truth mask (width * height bytes,
 * row-major, nonzero = building): counts, scores and the matched pairs.
 */
export function matchObjects(
  pred: Uint8Array,
  truth: Uint8Array,
  width: number,
  height: number,
  options?: ObjectMatchOptions,
): ObjectMatch {
  const where = 'metrics.matchObjects';
  checkMask(where, 'pred', pred, width, height);
  checkMask(where, 'truth', truth, width, height);
  const { iouThreshold, eight } = readObjectConfig(readOptions(where, options, OBJECT_KEYS));
  return matchComponents(label(pred, width, height, eight), label(truth, width, height, eight), iouThreshold);
}

/** Options of objectScore. */
export interface ObjectScoreOptions extends MaskOptions, ObjectMatchOptions {}

/**
 * SpaceNet's building F1 over a batch of masks (N, 1, H, W) or (N, H, W): objects matched
 * image by image, counts summed over the batch (SpaceNet sums them over the whole test set).
 */
export function objectScore(output: Tensor, target: Tensor, options?: ObjectScoreOptions): ObjectScore {
  const where = 'metrics.objectScore';
  const o = readOptions(where, options, [...MASK_KEYS, ...OBJECT_KEYS]);
  const c = readStatsConfig(o, 'binary');
  const { iouThreshold, eight } = readObjectConfig(o);
  const m = binaryMasks(where, output, target, c);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const size = m.height * m.width;
  for (let i = 0; i < m.count; i++) {
    const r = matchComponents(
      label(m.pred.subarray(i * size, (i + 1) * size), m.width, m.height, eight),
      label(m.truth.subarray(i * size, (i + 1) * size), m.width, m.height, eight),
      iouThreshold,
    );
    tp += r.tp;
    fp += r.fp;
    fn += r.fn;
  }
  return objectScores(tp, fp, fn);
}
