// getStats: the true/false positive/negative pixel counts per image and class that every score
// of segmentation_models_pytorch's metrics.functional is computed from (smp's `get_stats`).
import { torch, type Tensor } from '../torch/index.js';
import { isFloatingDType } from '../torch/dtype.js';
import { aminmax } from '../torch/ops/reduce.js';
import { diagonal } from '../torch/ops/shape.js';
import { invalidParameterError, readOptions, type OptionReader } from '../validate.js';
import type { DType } from '../torch/index.js';

/** 'binary': output and target (N, 1, ...); 'multilabel': (N, C, ...); 'multiclass': (N, ...) class indices. */
export type StatsMode = 'binary' | 'multilabel' | 'multiclass';

/** Options of getStats, as smp's get_stats takes them. */
export interface GetStatsOptions {
  mode: StatsMode;
  /**
   * 'binary' and 'multilabel': output (and target, as smp does) become 1 where >= threshold.
   * Needed for a floating-point output (probabilities); an integer output is used as is and
   * must hold 0 and 1.
   */
  threshold?: number | null;
  /**
   * Target value whose pixels count nowhere. 'multiclass': outside 0..numClasses-1, as in smp.
   * 'binary' and 'multilabel' (where smp refuses it): not 0 or 1; those pixels are left out
   * before thresholding, per class.
   */
  ignoreIndex?: number | null;
  /** 'multiclass': the number of classes (required); class values are 0..numClasses-1. */
  numClasses?: number | null;
}

/** int64 tensors of shape (N, C): counts per image and class. */
export interface Stats {
  tp: Tensor;
  fp: Tensor;
  fn: Tensor;
  tn: Tensor;
}

/** The modes getStats knows. */
export const STATS_MODES: readonly StatsMode[] = ['binary', 'multilabel', 'multiclass'];
/** The option keys of getStats. */
export const STATS_KEYS = ['mode', 'threshold', 'ignoreIndex', 'numClasses'] as const;

/** The options of getStats, checked; null for those not given (Python's None is null too). */
export interface StatsConfig {
  mode: StatsMode;
  threshold: number | null;
  ignoreIndex: number | null;
  numClasses: number | null;
}

/** Reads getStats' options from a reader (the Accumulator reads them among its own); `mode` fixes the mode instead. */
export function readStatsConfig(o: OptionReader<object>, fixedMode?: StatsMode): StatsConfig {
  const mode = fixedMode ?? o.choice('mode', STATS_MODES);
  const threshold = o.get('threshold') == null ? null : o.number('threshold');
  const ignoreIndex = o.get('ignoreIndex') == null ? null : o.int('ignoreIndex', undefined, {});
  const numClasses = o.get('numClasses') == null ? null : o.int('numClasses');
  const where = o.where;
  if (mode === 'multiclass') {
    if (threshold !== null)
      throw invalidParameterError(
        where,
        'threshold',
        "null in 'multiclass' mode (output holds class indices: take the argmax first)",
        threshold,
      );
    if (numClasses === null) throw invalidParameterError(where, 'numClasses', "a positive integer in 'multiclass' mode", numClasses);
    if (ignoreIndex !== null && ignoreIndex >= 0 && ignoreIndex < numClasses)
      throw invalidParameterError(
        where,
        'ignoreIndex',
        `outside the class values 0..${numClasses - 1} (e.g. -1 or 255)`,
        ignoreIndex,
        RangeError,
      );
  } else if (ignoreIndex === 0 || ignoreIndex === 1) {
    throw invalidParameterError(
      where,
      'ignoreIndex',
      `neither 0 nor 1 in '${mode}' mode (those are mask values; e.g. 255)`,
      ignoreIndex,
      RangeError,
    );
  }
  return { mode, threshold, ignoreIndex, numClasses };
}

const shapeOf = (t: Tensor) => `[${t.shape.join(', ')}]`;

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  bool: [0, 1],
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

/**
 * Where `t` holds `value`. A value its dtype cannot hold matches nowhere: libtorch would cast
 * it into the dtype first (-1 becomes 255 in a uint8 tensor).
 */
export function equalsIndex(t: Tensor, value: number): Tensor {
  const r = INT_RANGE[t.dtype];
  if (r !== undefined && (value < r[0] || value > r[1])) return torch.zeros(t.shape, { dtype: 'bool', device: t.device });
  return t.eq(value);
}

function checkTensor(where: string, name: string, t: unknown): Tensor {
  if (!torch.isTensor(t)) throw invalidParameterError(where, name, 'a Tensor', t);
  if (t.isDisposed) throw new Error(`${where}: ${name} is a disposed Tensor`);
  return t;
}

/** Checks output and target against the mode: dtypes, shapes. */
export function checkInputs(where: string, output: unknown, target: unknown, c: StatsConfig): [Tensor, Tensor] {
  const out = checkTensor(where, 'output', output);
  const tgt = checkTensor(where, 'target', target);
  if (isFloatingDType(tgt.dtype))
    throw invalidParameterError(where, 'target', 'an integer or bool tensor (class indices or a 0/1 mask)', `a ${tgt.dtype} tensor`);
  if (isFloatingDType(out.dtype) && c.mode === 'multiclass')
    throw invalidParameterError(
      where,
      'output',
      "an integer tensor of class indices in 'multiclass' mode (take output.argmax({ dim: 1 }) of the logits)",
      `a ${out.dtype} tensor`,
    );
  if (isFloatingDType(out.dtype) && c.threshold === null)
    throw invalidParameterError(
      where,
      'output',
      'an integer or bool tensor when no threshold is given (pass threshold for probabilities)',
      `a ${out.dtype} tensor`,
    );
  const s = out.shape;
  if (s.length !== tgt.shape.length || s.some((d, i) => d !== tgt.shape[i]))
    throw new RangeError(`${where}: output shape ${shapeOf(out)} must equal target shape ${shapeOf(tgt)}`);
  if (c.mode === 'multiclass' ? s.length < 1 : s.length < 2)
    throw new RangeError(
      `${where}: output must be ${c.mode === 'multiclass' ? '(N, ...)' : '(N, C, ...)'} in '${c.mode}' mode, got shape ${shapeOf(out)}`,
    );
  if (c.mode === 'binary' && s[1] !== 1)
    throw new RangeError(
      `${where}: output must be (N, 1, ...) in 'binary' mode (use 'multilabel' for several channels), got shape ${shapeOf(out)}`,
    );
  if (c.mode !== 'multiclass' && c.numClasses !== null && c.numClasses !== s[1])
    throw new RangeError(`${where}: numClasses ${c.numClasses} does not match the ${s[1]} channels of output shape ${shapeOf(out)}`);
  return [out, tgt];
}

/** Checks that the values of `t` outside `skip` lie in [0, max], in one pass. */
function checkValues(where: string, name: string, t: Tensor, skip: Tensor | null, max: number, expected: string): void {
  if (t.numel === 0 || t.dtype === 'bool') return;
  const [lo, hi] = torch.tidy(() => {
    const { min, max } = aminmax(skip === null ? t : torch.where(skip, 0, t));
    return [min.item(), max.item()];
  });
  if (lo < 0 || hi > max) throw new RangeError(`${where}: ${name} values must be ${expected}, got values from ${lo} to ${hi}`);
}

/**
 * Binary masks (bool) of prediction and truth, and the valid pixels (null without ignoreIndex),
 * with smp's thresholding: both become `x >= threshold`. Call inside tidy.
 */
export function binarize(
  where: string,
  output: Tensor,
  target: Tensor,
  c: StatsConfig,
): { pred: Tensor; truth: Tensor; valid: Tensor | null } {
  const ignored = c.ignoreIndex === null ? null : equalsIndex(target, c.ignoreIndex);
  const mask01 = `0 or 1${c.ignoreIndex === null ? '' : ` (or ignoreIndex ${c.ignoreIndex})`}`;
  if (c.threshold === null) {
    checkValues(where, 'output', output, ignored, 1, `0 or 1 without a threshold`);
    checkValues(where, 'target', target, ignored, 1, `${mask01} without a threshold`);
  }
  const thr = c.threshold;
  let pred = thr === null ? output.bool() : output.ge(thr);
  let truth = thr === null ? target.bool() : target.ge(thr);
  const valid = ignored === null ? null : ignored.logicalNot();
  if (valid !== null) {
    pred = pred.logicalAnd(valid);
    truth = truth.logicalAnd(valid);
  }
  return { pred, truth, valid };
}

/**
 * True positive, false positive, false negative and true negative pixel counts per image and
 * class, int64 tensors of shape (N, C), equal to smp's `get_stats(output, target, mode, ...)`.
 * The caller owns the four tensors.
 */
export function getStats(output: Tensor, target: Tensor, options: GetStatsOptions): Stats {
  const where = 'metrics.getStats';
  const c = readStatsConfig(readOptions(where, options, STATS_KEYS));
  const [out, tgt] = checkInputs(where, output, target, c);
  return computeStats(where, out, tgt, c);
}

/** getStats after the checks of readStatsConfig and checkInputs. */
export function computeStats(where: string, output: Tensor, target: Tensor, c: StatsConfig): Stats {
  return torch.tidy(() =>
    c.mode === 'multiclass' ? multiclassStats(where, output, target, c) : multilabelStats(where, output, target, c),
  );
}

function multilabelStats(where: string, output: Tensor, target: Tensor, c: StatsConfig): Stats {
  const { pred, truth, valid } = binarize(where, output, target, c);
  return statsFromMasks(pred, truth, valid);
}

/** 'binary' and 'multilabel' counts from binarize's masks (N, C, ...). Call inside tidy. */
export function statsFromMasks(pred: Tensor, truth: Tensor, valid: Tensor | null): Stats {
  const [n, classes] = pred.shape as [number, number];
  const pixels = n * classes === 0 ? 0 : pred.numel / (n * classes);
  const flat = (t: Tensor) => t.reshape([n, classes, -1]);
  const tp = flat(pred.logicalAnd(truth)).sum({ dim: 2 });
  const fp = flat(pred).sum({ dim: 2 }).sub(tp);
  const fn = flat(truth).sum({ dim: 2 }).sub(tp);
  const counted = valid === null ? torch.full([n, classes], pixels, { dtype: 'int64', device: pred.device }) : flat(valid).sum({ dim: 2 });
  return { tp, fp, fn, tn: counted.sub(tp).sub(fp).sub(fn) };
}

function multiclassStats(where: string, output: Tensor, target: Tensor, c: StatsConfig): Stats {
  const classes = c.numClasses!;
  const n = output.shape[0]!;
  const ignored = c.ignoreIndex === null ? null : equalsIndex(target, c.ignoreIndex);
  const range = `class indices 0..${classes - 1}`;
  checkValues(where, 'target', target, ignored, classes - 1, c.ignoreIndex === null ? range : `${range} or ignoreIndex ${c.ignoreIndex}`);
  checkValues(
    where,
    'output',
    output,
    ignored,
    classes - 1,
    `${range}${c.ignoreIndex === null ? '' : ' (where target is not ignoreIndex)'}`,
  );
  // One bincount gives each image's confusion matrix (truth x prediction); ignored pixels go to
  // an extra bin past the end.
  const bins = n * classes * classes;
  const offset = torch
    .arange(n, { dtype: 'int64', device: output.device })
    .mul(classes * classes)
    .reshape([n, 1]);
  let index = target
    .reshape([n, -1])
    .long()
    .mul(classes)
    .add(output.reshape([n, -1]))
    .add(offset);
  if (ignored !== null) index = index.maskedFill(ignored.reshape([n, -1]), bins);
  const confusion = torch
    .bincount(index.reshape([-1]), { minlength: bins + 1 })
    .narrow(0, 0, bins)
    .reshape([n, classes, classes]);
  const tp = diagonal(confusion, 0, 1, 2).contiguous();
  const fn = confusion.sum({ dim: 2 }).sub(tp);
  const fp = confusion.sum({ dim: 1 }).sub(tp);
  const tn = confusion
    .sum({ dim: [1, 2], keepdim: true })
    .reshape([n, 1])
    .sub(tp)
    .sub(fp)
    .sub(fn);
  return { tp, fp, fn, tn };
}
