// smp's soft overlap scores (`losses/_functional.py`): Tversky, with Dice (alpha = beta = 0.5)
// and Jaccard (alpha = beta = 1) as its special cases. The intersection is computed as
// (sum(p) + sum(t) - |p - t|_1) / 2, which equals sum(p * t) for 0/1 targets, as smp does.
import type { Tensor } from '../torch/index.js';
import { clampMin } from '../torch/ops/math.js';

/** Reduction dimensions of the soft scores, or undefined for all elements. */
export type ScoreDims = number[] | undefined;

/**
 * (TP + smooth) / max(TP + alpha FP + beta FN + smooth, eps) over `dims`, with soft counts
 * from probabilities `output` and targets `target` of the same shape.
 */
export function softTverskyScore(
  output: Tensor,
  target: Tensor,
  alpha: number,
  beta: number,
  smooth = 0,
  eps = 1e-7,
  dims: ScoreDims = undefined,
): Tensor {
  const reduce = dims === undefined ? undefined : { dim: dims };
  const outputSum = output.sum(reduce);
  const targetSum = target.sum(reduce);
  const difference = output.sub(target).norm({ p: 1, ...reduce });
  const intersection = outputSum.add(targetSum).sub(difference).div(2);
  const fp = outputSum.sub(intersection);
  const fn = targetSum.sub(intersection);
  const denominator = intersection.add(fp.mul(alpha)).add(fn.mul(beta)).add(smooth);
  return intersection.add(smooth).div(clampMin(denominator, eps));
}

/** Soft Dice: 2 TP / (2 TP + FP + FN). */
export function softDiceScore(output: Tensor, target: Tensor, smooth = 0, eps = 1e-7, dims: ScoreDims = undefined): Tensor {
  return softTverskyScore(output, target, 0.5, 0.5, smooth, eps, dims);
}

/** Soft Jaccard (IoU): TP / (TP + FP + FN). */
export function softJaccardScore(output: Tensor, target: Tensor, smooth = 0, eps = 1e-7, dims: ScoreDims = undefined): Tensor {
  return softTverskyScore(output, target, 1, 1, smooth, eps, dims);
}
