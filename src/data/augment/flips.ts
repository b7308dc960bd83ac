// The dihedral group D4: flips, transposes and quarter turns, the same for image and mask. No
// pixel is interpolated, so the mask stays exactly aligned with the image.
import { torch, type Tensor } from '../../torch/index.js';
import { checkChoice, readOptions } from '../../validate.js';
import type { Batch } from '../dataset.js';
import type { Random } from '../random.js';
import { readP } from './options.js';
import { BatchTransform, composeMaps, IDENTITY_MAP, mapMeta, replaceBatch, restack, type BatchShape, type PixelMap } from './transform.js';

/**
 * The 8 elements of D4 by albumentations' names: 'e' identity, 'r90', 'r180', 'r270'
 * counter-clockwise quarter turns (np.rot90 with k = 1, 2, 3), 'v' vertical flip (rows
 * reversed), 'h' horizontal flip (columns reversed), 't' transpose (main diagonal), 'hvt'
 * transverse (anti-diagonal).
 */
export type D4Element = 'e' | 'r90' | 'r180' | 'r270' | 'v' | 'hvt' | 'h' | 't';

/** In albumentations' order. */
export const D4_ELEMENTS: readonly D4Element[] = ['e', 'r90', 'r180', 'r270', 'v', 'hvt', 'h', 't'];

// Each element is "transpose (bit 1), then flip columns (bit 2), then flip rows (bit 4)".
const TRANSPOSE = 1;
const FLIP_X = 2;
const FLIP_Y = 4;
const CODES: Record<D4Element, number> = {
  e: 0,
  h: FLIP_X,
  v: FLIP_Y,
  r180: FLIP_X | FLIP_Y,
  t: TRANSPOSE,
  r90: TRANSPOSE | FLIP_Y,
  r270: TRANSPOSE | FLIP_X,
  hvt: TRANSPOSE | FLIP_X | FLIP_Y,
};

/** The view of `x` ([..., H, W]) under element `code`; a view for the identity and the transpose, else a copy. */
function dihedralOf(x: Tensor, code: number): Tensor {
  let y = code & TRANSPOSE ? x.transpose(-2, -1) : x;
  if (code & (FLIP_X | FLIP_Y)) y = y.flip(code & FLIP_X ? (code & FLIP_Y ? [-2, -1] : [-1]) : [-2]);
  return y;
}

/**
 * A D4 element applied to the last two dimensions of a tensor ([..., H, W]), as
 * albumentations' D4 applies `element` to an image; returns a new contiguous tensor.
 */
export function applyD4(x: Tensor, element: D4Element): Tensor {
  const code = CODES[checkChoice('applyD4', 'element', element, D4_ELEMENTS)];
  return torch.tidy(() => dihedralOf(x, code).contiguous());
}

/** The output-to-input pixel map of element `code` on an image of width w and height h. */
function dihedralMap(code: number, w: number, h: number): PixelMap {
  // Output size: transposed (h, w) -> (w, h). Undo the stages last to first.
  const [ow, oh] = code & TRANSPOSE ? [h, w] : [w, h];
  let m: PixelMap = IDENTITY_MAP;
  if (code & FLIP_Y) m = composeMaps([1, 0, 0, 0, -1, oh], m);
  if (code & FLIP_X) m = composeMaps([-1, 0, ow, 0, 1, 0], m);
  if (code & TRANSPOSE) m = composeMaps([0, 1, 0, 1, 0, 0], m);
  return m;
}

/** Applies per-sample D4 codes (undefined = identity) to image, mask and meta. */
function dihedral(batch: Batch, codes: readonly (number | undefined)[], shape: BatchShape): Batch {
  const first = codes[0];
  const uniform = first !== undefined && codes.every((c) => c === first);
  const each = (t: Tensor): Tensor =>
    uniform ? torch.tidy(() => dihedralOf(t, first).contiguous()) : restack(t, (s, i) => dihedralOf(s, codes[i] ?? 0));
  const image = each(batch.image);
  const mask = each(batch.mask);
  const meta = batch.meta.map((m, i) => {
    const code = codes[i] ?? 0;
    if (code === 0) return m;
    const [ow, oh] = code & TRANSPOSE ? [shape.height, shape.width] : [shape.width, shape.height];
    return mapMeta(m, dihedralMap(code, shape.width, shape.height), ow, oh);
  });
  return replaceBatch(batch, image, mask, meta);
}

const P_ONLY = ['p'];

function squareOnly(name: string, shape: BatchShape): void {
  if (shape.height !== shape.width) {
    throw new RangeError(
      `${name}: needs square images, got ${shape.height}x${shape.width} (a transposed HxW image is WxH, and a batch holds one size; crop or pad to a square first)`,
    );
  }
}

/** Base of the D4 transforms: each sample draws one code. */
abstract class DihedralTransform extends BatchTransform<number> {
  protected transform(batch: Batch, params: readonly (number | undefined)[], shape: BatchShape): Batch {
    return dihedral(batch, params, shape);
  }
}

/** Reverses the columns (albumentations' HorizontalFlip; p = 0.5 by default). */
export class HorizontalFlip extends DihedralTransform {
  constructor(options?: { p?: number }) {
    super('HorizontalFlip', readP(readOptions('HorizontalFlip', options, P_ONLY), 0.5));
  }
  protected draw(): number {
    return FLIP_X;
  }
}

/** Reverses the rows (albumentations' VerticalFlip; p = 0.5 by default). */
export class VerticalFlip extends DihedralTransform {
  constructor(options?: { p?: number }) {
    super('VerticalFlip', readP(readOptions('VerticalFlip', options, P_ONLY), 0.5));
  }
  protected draw(): number {
    return FLIP_Y;
  }
}

/** Swaps rows and columns (albumentations' Transpose; p = 0.5 by default). Needs square images. */
export class Transpose extends DihedralTransform {
  constructor(options?: { p?: number }) {
    super('Transpose', readP(readOptions('Transpose', options, P_ONLY), 0.5));
  }
  protected override check(shape: BatchShape): void {
    squareOnly(this.name, shape);
  }
  protected draw(): number {
    return TRANSPOSE;
  }
}

const ROTATIONS = [CODES.e, CODES.r90, CODES.r180, CODES.r270];

/**
 * Turns by 90 degrees k times counter-clockwise, k drawn from {0, 1, 2, 3} (albumentations'
 * RandomRotate90, whose draw includes 0; p = 0.5 by default). Needs square images.
 */
export class RandomRotate90 extends DihedralTransform {
  constructor(options?: { p?: number }) {
    super('RandomRotate90', readP(readOptions('RandomRotate90', options, P_ONLY), 0.5));
  }
  protected override check(shape: BatchShape): void {
    squareOnly(this.name, shape);
  }
  protected draw(random: Random): number {
    return ROTATIONS[random.int(4)]!;
  }
}

/**
 * One of the 8 elements of D4 drawn uniformly (albumentations' D4; p = 1 by default): the
 * symmetries of a square, natural for overhead imagery where north has no special look.
 * Needs square images.
 */
export class D4 extends DihedralTransform {
  constructor(options?: { p?: number }) {
    super('D4', readP(readOptions('D4', options, P_ONLY), 1));
  }
  protected override check(shape: BatchShape): void {
    squareOnly(this.name, shape);
  }
  protected draw(random: Random): number {
    return CODES[D4_ELEMENTS[random.int(8)]!];
  }
}
