// smp's FocalLoss: binary focal loss on logits (one sigmoid per channel in every mode; the
// multiclass mode compares each channel with `yTrue == c`), then the mean over channels.
import { F, torch, type Tensor } from '../torch/index.js';
import { clampMin } from '../torch/ops/math.js';
import { readOptions } from '../validate.js';
import { Loss, describeOptions } from './loss.js';
import { checkInputs, checkMode, type LossMode } from './mode.js';
import { checkPerClass, readClassWeights, readIgnoreIndex, readNullableNumber } from './options.js';

/** How the per-pixel focal terms are reduced: smp's choices. */
export type FocalReduction = 'mean' | 'sum' | 'none' | 'batchwise_mean';
const REDUCTIONS: readonly FocalReduction[] = ['mean', 'sum', 'none', 'batchwise_mean'];

export interface FocalLossOptions {
  /** Weight of positives (1 - alpha for negatives), from 0 to 1; default none (no weighting). */
  alpha?: number | null;
  /** Focusing power: (1 - pt) ** gamma scales each term; default 2. */
  gamma?: number;
  /** A yTrue label whose pixels count nowhere; default none. */
  ignoreIndex?: number | null;
  /** yPred holds logits; false takes probabilities, clamped to [eps, 1 - eps]; default true. */
  fromLogits?: boolean;
  /** Clamp of probabilities when fromLogits is false; default 1e-7. */
  eps?: number;
  /** 'mean' (default), 'sum', 'none' (per pixel) or 'batchwise_mean' (a sum over dimension 0). */
  reduction?: FocalReduction;
  /** Divide by the sum of the focal terms (normalized focal loss, arXiv 1909.07829); default false. */
  normalized?: boolean;
  /** Reduced focal loss (arXiv 1903.01347): terms with pt below it get weight 1; default none. */
  reducedThreshold?: number | null;
  /** One weight per channel for the mean over channels (multiclass and multilabel only). */
  classWeights?: number[] | null;
}

const KEYS = ['alpha', 'gamma', 'ignoreIndex', 'fromLogits', 'eps', 'reduction', 'normalized', 'reducedThreshold', 'classWeights'];

/**
 * Focal loss (Lin et al. 2017) for 'binary', 'multiclass' and 'multilabel' modes (smp's
 * `FocalLoss(mode, ...)`; values and gradients equal smp's). Ignored pixels are left out of
 * every term and of the mean.
 */
export class FocalLoss extends Loss {
  readonly mode: LossMode;
  readonly alpha: number | null;
  readonly gamma: number;
  readonly ignoreIndex: number | null;
  readonly fromLogits: boolean;
  readonly eps: number;
  readonly reduction: FocalReduction;
  readonly normalized: boolean;
  readonly reducedThreshold: number | null;
  readonly classWeights: number[] | null;

  constructor(mode: LossMode, options?: FocalLossOptions) {
    super();
    const where = 'FocalLoss';
    this.mode = checkMode(where, mode);
    const o = readOptions(where, options, KEYS);
    this.alpha = readNullableNumber(o, 'alpha', null, { min: 0, max: 1 });
    this.gamma = o.number('gamma', 2, { min: 0 });
    this.ignoreIndex = readIgnoreIndex(o, null);
    this.fromLogits = o.bool('fromLogits', true);
    this.eps = o.number('eps', 1e-7, { min: 0, max: 0.5, exclusive: 'max' });
    this.reduction = o.choice('reduction', REDUCTIONS, 'mean');
    this.normalized = o.bool('normalized', false);
    this.reducedThreshold = readNullableNumber(o, 'reducedThreshold', null, { min: 0, max: 1, exclusive: 'min' });
    this.classWeights = readClassWeights(o, this.mode);
  }

  protected compute(yPred: Tensor, yTrue: Tensor): Tensor {
    const where = `${this.name}.forward`;
    let [p, t] = checkInputs(where, this.mode, yPred, yTrue);
    if (this.mode !== 'binary') checkPerClass(where, p.shape[1]!, null, this.classWeights);
    if (!this.fromLogits) {
      p = p.clamp(this.eps, 1 - this.eps);
      // Back to logits: the inverse sigmoid, or log-probabilities in multiclass mode (as smp).
      p = this.mode === 'multiclass' ? p.log() : p.div(p.rsub(1)).log();
    }
    if (this.mode === 'binary') {
      p = p.reshape([-1]);
      t = t.reshape([-1]);
      if (this.ignoreIndex !== null) {
        const keep = t.ne(this.ignoreIndex);
        p = p.index([keep]);
        t = t.index([keep]);
      }
      return this.focal(p, t);
    }
    const keep = this.ignoreIndex === null ? null : t.ne(this.ignoreIndex);
    const perClass: Tensor[] = [];
    for (let c = 0; c < p.shape[1]!; c++) {
      let target = this.mode === 'multiclass' ? t.eq(c).long() : t.select(1, c);
      let pred = p.select(1, c);
      if (keep !== null) {
        // multilabel: each channel has its own ignored pixels (smp indexes one channel with the
        // mask of all channels here, which raises an IndexError).
        const k = this.mode === 'multiclass' ? keep : keep.select(1, c);
        target = target.index([k]);
        pred = pred.index([k]);
      }
      perClass.push(this.focal(pred, target));
    }
    const losses = torch.stack(perClass);
    if (this.classWeights === null) return losses.mean();
    const weights = torch.tensor(this.classWeights, { dtype: 'float32', device: losses.device });
    const shaped = weights.reshape([weights.shape[0]!, ...losses.shape.slice(1).map(() => 1)]);
    return losses.mul(shaped).sum().div(weights.sum());
  }

  /** smp's focal_loss_with_logits on flat or per-channel logits and 0/1 targets. */
  private focal(output: Tensor, target: Tensor): Tensor {
    const y = target.to({ dtype: output.dtype });
    const logpt = F.binaryCrossEntropyWithLogits(output, y, { reduction: 'none' });
    const pt = logpt.neg().exp();
    let focalTerm: Tensor;
    if (this.reducedThreshold === null) focalTerm = pt.rsub(1).pow(this.gamma);
    else focalTerm = pt.rsub(1).div(this.reducedThreshold).pow(this.gamma).maskedFill(pt.lt(this.reducedThreshold), 1);
    let loss = focalTerm.mul(logpt);
    if (this.alpha !== null) loss = loss.mul(y.mul(this.alpha).add(y.rsub(1).mul(1 - this.alpha)));
    if (this.normalized) loss = loss.div(clampMin(focalTerm.sum(), 1e-6));
    if (this.reduction === 'mean') return loss.mean();
    if (this.reduction === 'sum') return loss.sum();
    if (this.reduction === 'batchwise_mean') return loss.sum({ dim: 0 });
    return loss;
  }

  override extraRepr(): string {
    const { mode, alpha, gamma, ignoreIndex, fromLogits, eps, reduction, normalized, reducedThreshold, classWeights } = this;
    return describeOptions(
      { mode, alpha, gamma, ignoreIndex, fromLogits, eps, reduction, normalized, reducedThreshold, classWeights },
      {
        alpha: null,
        gamma: 2,
        ignoreIndex: null,
        fromLogits: true,
        eps: 1e-7,
        reduction: 'mean',
        normalized: false,
        reducedThreshold: null,
        classWeights: null,
      },
    );
  }
}
