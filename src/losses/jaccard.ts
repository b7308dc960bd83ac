// smp's JaccardLoss: 1 - soft IoU per channel over the batch, averaged over channels.
import type { Tensor } from '../torch/index.js';
import type { LossMode } from './mode.js';
import { RegionLoss, type RegionLossOptions } from './region.js';
import { softJaccardScore } from './scores.js';

export type JaccardLossOptions = RegionLossOptions;

/**
 * Jaccard (IoU) loss, `1 - |P∩T| / |P∪T|` with soft counts, for 'binary', 'multiclass' and
 * 'multilabel' modes (smp's `JaccardLoss(mode, ...)`; values and gradients equal smp's).
 * A channel with no true pixel in the batch contributes zero.
 */
export class JaccardLoss extends RegionLoss {
  constructor(mode: LossMode, options?: JaccardLossOptions) {
    super('JaccardLoss', mode, options);
  }

  protected score(pred: Tensor, target: Tensor): Tensor {
    return softJaccardScore(pred, target, this.smooth, this.eps, [0, 2]);
  }
}
