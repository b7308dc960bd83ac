// The Tianchi building-segmentation score (天池 地表建筑物识别): the mean over images of
// Dice = 2|X ∩ Y| / (|X| + |Y|), with 1 for an image where prediction and truth are both empty.
import { torch, type Tensor } from '../torch/index.js';
import { readOptions } from '../validate.js';
import { MASK_KEYS, type MaskOptions } from './masks.js';
import { checkInputs, computeStats, readStatsConfig } from './stats.js';

/** Dice of one image from its counts: 2 tp / (2 tp + fp + fn), 1 when both masks are empty. */
export function diceFromCounts(tp: number, fp: number, fn: number): number {
  const d = 2 * tp + fp + fn;
  return d === 0 ? 1 : (2 * tp) / d;
}

/**
 * The Tianchi score of a batch of binary masks (N, ...): every dimension after the first is
 * the image's pixels, so (N, 1, H, W) and (N, H, W) both work. Computed in float64; it equals
 * smp's `f1Score(getStats(...), { reduction: 'micro-imagewise', zeroDivision: 1 })` up to float32 rounding.
 */
export function tianchiScore(output: Tensor, target: Tensor, options?: MaskOptions): number {
  const where = 'metrics.tianchiScore';
  const c = readStatsConfig(readOptions(where, options, MASK_KEYS), 'binary');
  const [tp, fp, fn] = torch.tidy(() => {
    const shapes = [output, target].map((t) => (torch.isTensor(t) && !t.isDisposed ? t.shape.join(', ') : null));
    if (shapes[0] !== null && shapes[1] !== null && shapes[0] !== shapes[1])
      throw new RangeError(`${where}: output shape [${shapes[0]}] must equal target shape [${shapes[1]}]`);
    const flat = (t: Tensor, name: string) => {
      if (!torch.isTensor(t) || t.isDisposed) return t; // checkInputs names the problem
      if (t.ndim < 1 || t.shape[0] === 0)
        throw new RangeError(`${where}: ${name} must be a batch of at least one image (N, ...), got shape [${t.shape.join(', ')}]`);
      return t.reshape([t.shape[0]!, 1, -1]);
    };
    const [out, tgt] = checkInputs(where, flat(output, 'output'), flat(target, 'target'), c);
    const s = computeStats(where, out, tgt, c);
    return [s.tp, s.fp, s.fn].map((t) => Array.from(t.toArray() as BigInt64Array, Number));
  });
  let sum = 0;
  for (let i = 0; i < tp!.length; i++) sum += diceFromCounts(tp![i]!, fp![i]!, fn![i]!);
  return sum / tp!.length;
}
