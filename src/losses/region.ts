// The forward pass smp's DiceLoss, JaccardLoss and TverskyLoss share: probabilities from
// logits, the (N, C, P) layout with ignored pixels zeroed, a soft score per channel over the
// batch and the pixels, channels without any true pixel dropped (their loss is undefined), then
// smp's `classes` selection and class-weighted mean.
import { torch, type Tensor } from '../torch/index.js';
import { clampMin, logsigmoid } from '../torch/ops/math.js';
import { readOptions, type OptionReader } from '../validate.js';
import { Loss, describeOptions } from './loss.js';
import { flattenForOverlap } from './masking.js';
import { checkInputs, checkMode, type LossMode } from './mode.js';
import { checkPerClass, readClassWeights, readClasses, readIgnoreIndex } from './options.js';

/** Options of DiceLoss and JaccardLoss (smp's arguments in camelCase). */
export interface RegionLossOptions {
  /** Channels that count (multiclass and multilabel only); default all. */
  classes?: number[] | null;
  /** -log(score) instead of 1 - score; default false. */
  logLoss?: boolean;
  /** yPred holds logits (softmax over channels in multiclass mode, else sigmoid); default true. */
  fromLogits?: boolean;
  /** Added to numerator and denominator of the score; default 0. */
  smooth?: number;
  /** A yTrue label whose pixels count nowhere; default none. */
  ignoreIndex?: number | null;
  /** Lower bound of the score's denominator (and of the score under logLoss); default 1e-7. */
  eps?: number;
  /** One weight per channel for the mean over channels (multiclass and multilabel only). */
  classWeights?: number[] | null;
}

const REGION_KEYS = ['classes', 'logLoss', 'fromLogits', 'smooth', 'ignoreIndex', 'eps', 'classWeights'] as const;

/** The shared forward of DiceLoss, JaccardLoss and TverskyLoss; subclasses give the score. */
export abstract class RegionLoss extends Loss {
  readonly mode: LossMode;
  readonly classes: number[] | null;
  readonly logLoss: boolean;
  readonly fromLogits: boolean;
  readonly smooth: number;
  readonly ignoreIndex: number | null;
  readonly eps: number;
  readonly classWeights: number[] | null;
  /** The options reader, for subclasses to read their own keys in their constructor. */
  protected readonly reader: OptionReader<object>;

  /** Reads the shared options; `extraKeys` are a subclass's own, read from `reader`. */
  protected constructor(where: string, mode: LossMode, options: object | undefined, extraKeys: readonly string[] = []) {
    super();
    this.mode = checkMode(where, mode);
    const o = readOptions(where, options, [...REGION_KEYS, ...extraKeys]);
    this.classes = readClasses(o, this.mode);
    this.logLoss = o.bool('logLoss', false);
    this.fromLogits = o.bool('fromLogits', true);
    this.smooth = o.number('smooth', 0, { min: 0 });
    this.ignoreIndex = readIgnoreIndex(o, null);
    this.eps = o.number('eps', 1e-7, { min: 0 });
    this.classWeights = readClassWeights(o, this.mode);
    this.reader = o;
  }

  /** The per-channel score of (N, C, P) probabilities and targets over dims [0, 2]. */
  protected abstract score(pred: Tensor, target: Tensor): Tensor;

  /** The per-channel losses to one number: smp's mean, or class-weighted mean. */
  protected aggregate(loss: Tensor): Tensor {
    if (this.classWeights === null) return loss.mean();
    const weights = this.selectClasses(torch.tensor(this.classWeights, { dtype: 'float32', device: loss.device }));
    return loss.mul(weights).sum().div(weights.sum());
  }

  private selectClasses(perClass: Tensor): Tensor {
    if (this.classes === null) return perClass;
    return perClass.index([torch.tensor(this.classes, { dtype: 'int64', device: perClass.device })]);
  }

  protected compute(yPred: Tensor, yTrue: Tensor): Tensor {
    const where = `${this.name}.forward`;
    const [p, t] = checkInputs(where, this.mode, yPred, yTrue);
    if (this.mode !== 'binary') checkPerClass(where, p.shape[1]!, this.classes, this.classWeights);
    // exp(log_softmax) and exp(logsigmoid), as smp: their gradients stay finite where the
    // probabilities saturate at 0 or 1.
    const probs = !this.fromLogits ? p : this.mode === 'multiclass' ? p.logSoftmax(1).exp() : logsigmoid(p).exp();
    const [pred, target] = flattenForOverlap(where, this.mode, probs, t, this.ignoreIndex);
    const scores = this.score(pred, target.to({ dtype: pred.dtype }));
    let loss = this.logLoss ? clampMin(scores, this.eps).log().neg() : scores.rsub(1);
    // A channel with no true pixel in the batch has no defined score: it adds zero.
    loss = loss.mul(
      target
        .sum({ dim: [0, 2] })
        .gt(0)
        .to({ dtype: loss.dtype }),
    );
    return this.aggregate(this.selectClasses(loss));
  }

  override extraRepr(): string {
    const { mode, classes, logLoss, fromLogits, smooth, ignoreIndex, eps, classWeights } = this;
    return describeOptions(
      { mode, classes, logLoss, fromLogits, smooth, ignoreIndex, eps, classWeights, ...this.extraOptions()[0] },
      {
        classes: null,
        logLoss: false,
        fromLogits: true,
        smooth: 0,
        ignoreIndex: null,
        eps: 1e-7,
        classWeights: null,
        ...this.extraOptions()[1],
      },
    );
  }

  /** A subclass's own options and their defaults, for extraRepr. */
  protected extraOptions(): [values: Record<string, unknown>, defaults: Record<string, unknown>] {
    return [{}, {}];
  }
}
