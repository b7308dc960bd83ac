// smp's SoftCrossEntropyLoss: cross-entropy with label smoothing (fairseq's
// label_smoothed_nll_loss) and an ignore label.
import { Tensor } from '../torch/index.js';
import { outOfRangeError, readOptions } from '../validate.js';
import { Loss, describeOptions } from './loss.js';
import { classIndexError } from './masking.js';
import { checkClassTarget, checkPrediction } from './mode.js';
import { readIgnoreIndex } from './options.js';
import { REDUCTIONS, type Reduction } from './soft-bce.js';

export interface SoftCrossEntropyLossOptions {
  /** 'mean' (default), 'sum' or 'none'. */
  reduction?: Reduction;
  /**
   * Label smoothing epsilon: the loss is (1 - e) NLL + e / C * sum of -log p over classes;
   * default 0 (smp's default, None, fails in smp's code).
   */
  smoothFactor?: number;
  /** A yTrue label whose pixels add zero (they still count in the mean, as smp); default -100, null for none. */
  ignoreIndex?: number | null;
  /** The class dimension of yPred; default 1. */
  dim?: number;
}

/**
 * Cross-entropy on logits with label smoothing (smp's `SoftCrossEntropyLoss`): yPred (N, C, ...)
 * logits, yTrue (N, ...) int64 class indices (or with a size-1 dimension at `dim`). Values and
 * gradients equal smp's; unlike PyTorch's CrossEntropyLoss, ignored pixels still count in the
 * mean's denominator, as in smp.
 */
export class SoftCrossEntropyLoss extends Loss {
  readonly reduction: Reduction;
  readonly smoothFactor: number;
  readonly ignoreIndex: number | null;
  readonly dim: number;

  constructor(options?: SoftCrossEntropyLossOptions) {
    super();
    const o = readOptions('SoftCrossEntropyLoss', options, ['reduction', 'smoothFactor', 'ignoreIndex', 'dim']);
    this.reduction = o.choice('reduction', REDUCTIONS, 'mean');
    this.smoothFactor = o.probability('smoothFactor', 0);
    this.ignoreIndex = readIgnoreIndex(o, -100);
    this.dim = o.int('dim', 1, {});
  }

  protected compute(yPred: Tensor, yTrue: Tensor): Tensor {
    const where = `${this.name}.forward`;
    const p = checkPrediction(where, yPred, true);
    const dim = this.dim < 0 ? this.dim + p.ndim : this.dim;
    if (dim < 1 || dim >= p.ndim) throw outOfRangeError(where, 'dim', `a class dimension from 1 to ${p.ndim - 1} of yPred`, this.dim);
    let target = yTrue;
    if (target instanceof Tensor && target.ndim === p.ndim && target.shape[dim] === 1) target = target.squeeze(dim);
    target = checkClassTarget(where, p, target, '', dim).long().unsqueeze(dim);
    const lprobs = p.logSoftmax(dim);
    try {
      return labelSmoothedNll(lprobs, target, this.smoothFactor, this.ignoreIndex, this.reduction, dim);
    } catch (e) {
      if (!(e instanceof Error) || !/out of bounds/.test(e.message)) throw e;
      const ig = this.ignoreIndex;
      throw classIndexError(where, ig === null ? target : target.maskedFill(target.eq(ig), 0), p.shape[dim]!, ig, e);
    }
  }

  override extraRepr(): string {
    const { reduction, smoothFactor, ignoreIndex, dim } = this;
    return describeOptions(
      { reduction, smoothFactor, ignoreIndex, dim },
      { reduction: 'mean', smoothFactor: 0, ignoreIndex: -100, dim: 1 },
    );
  }
}

/** smp's label_smoothed_nll_loss on log-probabilities and int64 targets with a size-1 `dim`. */
function labelSmoothedNll(
  lprobs: Tensor,
  target: Tensor,
  epsilon: number,
  ignoreIndex: number | null,
  reduction: Reduction,
  dim: number,
): Tensor {
  let nll: Tensor;
  let smooth: Tensor;
  if (ignoreIndex !== null) {
    const pad = target.eq(ignoreIndex);
    nll = lprobs.gather(dim, target.maskedFill(pad, 0)).neg().maskedFill(pad, 0);
    smooth = lprobs.sum({ dim, keepdim: true }).neg().maskedFill(pad, 0);
  } else {
    nll = lprobs.gather(dim, target).neg().squeeze(dim);
    smooth = lprobs.sum({ dim, keepdim: true }).neg().squeeze(dim);
  }
  if (reduction === 'sum') {
    nll = nll.sum();
    smooth = smooth.sum();
  } else if (reduction === 'mean') {
    nll = nll.mean();
    smooth = smooth.mean();
  }
  return nll.mul(1 - epsilon).add(smooth.mul(epsilon / lprobs.shape[dim]!));
}
