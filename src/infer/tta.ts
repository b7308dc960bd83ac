// Test-time augmentation: the model sees the input under each transform of a group (flips, or
// all eight symmetries of the square, D4), each prediction is mapped back, and the mean is the
// result. Averaging over a whole group makes the prediction equivariant under it.
import type { Tensor } from '../torch/index.js';

export type TtaMode = 'none' | 'flips' | 'd4';
export const TTA_MODES: readonly TtaMode[] = ['none', 'flips', 'd4'];

/** A transform of [N, C, H, W] batches and its inverse. */
export interface TtaTransform {
  name: string;
  forward(x: Tensor): Tensor;
  inverse(y: Tensor): Tensor;
}

const same = (x: Tensor) => x;
const hflip = (x: Tensor) => x.flip([3]);
const vflip = (x: Tensor) => x.flip([2]);
const rot = (k: number) => (x: Tensor) => x.rot90(k, [2, 3]);
const transpose = (x: Tensor) => x.transpose(2, 3);

const IDENTITY: TtaTransform = { name: 'identity', forward: same, inverse: same };
const FLIPS: TtaTransform[] = [
  IDENTITY,
  { name: 'hflip', forward: hflip, inverse: hflip },
  { name: 'vflip', forward: vflip, inverse: vflip },
  { name: 'rot180', forward: rot(2), inverse: rot(2) },
];
const D4: TtaTransform[] = [
  ...FLIPS,
  { name: 'rot90', forward: rot(1), inverse: rot(3) },
  { name: 'rot270', forward: rot(3), inverse: rot(1) },
  { name: 'transpose', forward: transpose, inverse: transpose },
  // The anti-diagonal reflection: transpose after a half turn.
  { name: 'antitranspose', forward: (x) => rot(2)(x).transpose(2, 3), inverse: (y) => rot(2)(y.transpose(2, 3)) },
];

/** The transforms of a mode: 1 for 'none', 4 for 'flips' (identity, horizontal, vertical, both), 8 for 'd4'. */
export function ttaTransforms(mode: TtaMode): TtaTransform[] {
  return mode === 'none' ? [IDENTITY] : mode === 'flips' ? FLIPS : D4;
}
