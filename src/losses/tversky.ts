// smp's TverskyLoss: Dice with separate weights on false positives and false negatives, and the
// mean over channels raised to a power (the focal Tversky loss for gamma > 1).
import type { Tensor } from '../torch/index.js';
import type { LossMode } from './mode.js';
import { RegionLoss, type RegionLossOptions } from './region.js';
import { softTverskyScore } from './scores.js';

export interface TverskyLossOptions extends RegionLossOptions {
  /** Weight of false positives; default 0.5. */
  alpha?: number;
  /** Weight of false negatives; default 0.5. */
  beta?: number;
  /** Power of the aggregated loss; default 1. */
  gamma?: number;
}

/**
 * Tversky loss, `(1 - TP / (TP + alpha FP + beta FN)) ** gamma` with soft counts, for 'binary',
 * 'multiclass' and 'multilabel' modes (smp's `TverskyLoss(mode, ...)`). alpha = beta = 0.5 and
 * gamma = 1 give DiceLoss.
 */
export class TverskyLoss extends RegionLoss {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;

  constructor(mode: LossMode, options?: TverskyLossOptions) {
    super('TverskyLoss', mode, options, ['alpha', 'beta', 'gamma']);
    this.alpha = this.reader.number('alpha', 0.5, { min: 0 });
    this.beta = this.reader.number('beta', 0.5, { min: 0 });
    this.gamma = this.reader.number('gamma', 1, { min: 0, exclusive: 'min' });
  }

  protected score(pred: Tensor, target: Tensor): Tensor {
    return softTverskyScore(pred, target, this.alpha, this.beta, this.smooth, this.eps, [0, 2]);
  }

  protected override aggregate(loss: Tensor): Tensor {
    return super.aggregate(loss).pow(this.gamma);
  }

  protected override extraOptions(): [Record<string, unknown>, Record<string, unknown>] {
    return [
      { alpha: this.alpha, beta: this.beta, gamma: this.gamma },
      { alpha: 0.5, beta: 0.5, gamma: 1 },
    ];
  }
}
