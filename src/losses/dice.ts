// smp's DiceLoss: 1 - soft Dice per channel over the batch, averaged over channels.
import type { Tensor } from '../torch/index.js';
import type { LossMode } from './mode.js';
import { RegionLoss, type RegionLossOptions } from './region.js';
import { softDiceScore } from './scores.js';

export type DiceLossOptions = RegionLossOptions;

/**
 * Dice loss, `1 - 2|P∩T| / (|P| + |T|)` with soft counts, for 'binary', 'multiclass' and
 * 'multilabel' modes (smp's `DiceLoss(mode, ...)`; values and gradients equal smp's).
 * A channel with no true pixel in the batch contributes zero.
 *
 *   const dice = new losses.DiceLoss('binary');            // yPred (N, 1, H, W) logits
 *   const loss = dice.forward(logits, masks);              // 0-d, differentiable
 */
export class DiceLoss extends RegionLoss {
  constructor(mode: LossMode, options?: DiceLossOptions) {
    super('DiceLoss', mode, options);
  }

  protected score(pred: Tensor, target: Tensor): Tensor {
    return softDiceScore(pred, target, this.smooth, this.eps, [0, 2]);
  }
}
