// Binary masks copied out of tensors once, for the scores that walk pixels on the CPU
// (objects, boundaries): one Uint8Array per batch, image after image.
import type { Tensor } from '../torch/index.js';
import { torch } from '../torch/index.js';
import { binarize, checkInputs, type StatsConfig } from './stats.js';

/** N masks of height * width bytes each (1 = object), row-major, back to back. */
export interface MaskBatch {
  count: number;
  height: number;
  width: number;
  pred: Uint8Array;
  truth: Uint8Array;
}

/** Options shared by the mask-level scores: how output and target become 0/1 masks. */
export interface MaskOptions {
  /** Output (and target, as getStats does) become 1 where >= threshold; needed for probabilities. */
  threshold?: number | null;
  /** Target value whose pixels are cleared in both masks (DAVIS's void pixels); not 0 or 1. */
  ignoreIndex?: number | null;
}

/** The option keys of MaskOptions. */
export const MASK_KEYS = ['threshold', 'ignoreIndex'] as const;

/** Output and target as (N, 1, H, W): (N, H, W) gains the channel, anything else must already be that. */
export function asBinaryBatch(where: string, t: Tensor, name: string): Tensor {
  if (!torch.isTensor(t)) return t; // checkInputs names the problem
  if (t.ndim === 3) return t.unsqueeze(1);
  if (t.ndim === 4 && t.shape[1] === 1) return t;
  throw new RangeError(`${where}: ${name} must be a batch of masks (N, 1, H, W) or (N, H, W), got shape [${t.shape.join(', ')}]`);
}

/** Copies binarize's masks (N, 1, H, W) out of libtorch. Call inside tidy. */
export function copyMasks(pred: Tensor, truth: Tensor): MaskBatch {
  const [count, , height, width] = pred.shape as [number, number, number, number];
  const bytes = (t: Tensor) => (t.device === 'cpu' ? t : t.cpu()).contiguous().toArray() as Uint8Array;
  return { count, height, width, pred: bytes(pred), truth: bytes(truth) };
}

/** The binary masks of a batch, checked as getStats checks 'binary' inputs. */
export function binaryMasks(where: string, output: Tensor, target: Tensor, c: StatsConfig): MaskBatch {
  return torch.tidy(() => {
    const [out, tgt] = checkInputs(where, asBinaryBatch(where, output, 'output'), asBinaryBatch(where, target, 'target'), c);
    const { pred, truth } = binarize(where, out, tgt, c);
    return copyMasks(pred, truth);
  });
}
