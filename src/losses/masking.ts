// Targets as the overlap losses (Dice, Jaccard, Tversky) see them: one-hot class channels and
// ignored pixels zeroed in prediction and target alike, in the op order smp uses so values and
// gradients agree with smp's to the last bits.
import { torch, type Tensor } from '../torch/index.js';
import type { LossMode } from './mode.js';

/** Where yTrue is not `ignoreIndex` (a bool tensor of yTrue's shape). */
export function notIgnored(yTrue: Tensor, ignoreIndex: number): Tensor {
  return yTrue.ne(ignoreIndex);
}

/**
 * The RangeError for class indices outside 0..C-1, naming the loss, the number of classes and
 * the values found (libtorch only says "Class values must be smaller than num_classes"). The
 * range is read only here, after the op that needed valid indices has failed.
 */
export function classIndexError(where: string, labels: Tensor, numClasses: number, ignoreIndex: number | null, cause: unknown): RangeError {
  const [lo, hi] = torch.tidy(() => [labels.min().item(), labels.max().item()]);
  const ignore = ignoreIndex === null ? ' (pass ignoreIndex to skip a void label)' : ` or ignoreIndex ${ignoreIndex}`;
  return new RangeError(
    `${where}: yTrue must hold class indices from 0 to ${numClasses - 1} (yPred has ${numClasses} channels)${ignore}, got values from ${lo} to ${hi}`,
    { cause },
  );
}

/** int64 class indices (N, P) -> one-hot (N, P, C) int64; bad indices give classIndexError. */
export function oneHotClasses(where: string, labels: Tensor, numClasses: number, ignoreIndex: number | null): Tensor {
  try {
    return torch.oneHot(labels, numClasses);
  } catch (e) {
    throw classIndexError(where, labels, numClasses, ignoreIndex, e);
  }
}

/**
 * smp's DiceLoss/JaccardLoss layout: prediction and target as (N, C, P), the target one-hot in
 * multiclass mode, ignored pixels zeroed in both. The target keeps its dtype (the caller casts).
 */
export function flattenForOverlap(
  where: string,
  mode: LossMode,
  yPred: Tensor,
  yTrue: Tensor,
  ignoreIndex: number | null,
): [pred: Tensor, target: Tensor] {
  const bs = yTrue.shape[0]!;
  if (mode === 'multiclass') {
    const numClasses = yPred.shape[1]!;
    const labels = yTrue.reshape([bs, -1]);
    const pred = yPred.reshape([bs, numClasses, -1]);
    if (ignoreIndex === null) {
      return [pred, oneHotClasses(where, labels.long(), numClasses, null).permute([0, 2, 1])];
    }
    const mask = notIgnored(labels, ignoreIndex);
    const keep = mask.unsqueeze(1);
    const oneHot = oneHotClasses(where, labels.mul(mask).long(), numClasses, ignoreIndex);
    return [pred.mul(keep), oneHot.permute([0, 2, 1]).mul(keep)];
  }
  const channels = mode === 'binary' ? 1 : yPred.shape[1]!;
  const target = yTrue.reshape([bs, channels, -1]);
  const pred = yPred.reshape([bs, channels, -1]);
  if (ignoreIndex === null) return [pred, target];
  const keep = notIgnored(target, ignoreIndex);
  return [pred.mul(keep), target.mul(keep)];
}
