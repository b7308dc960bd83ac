// ShiftScaleRotate: one affine warp per sample, run as one F.affineGrid + F.gridSample over the
// picked samples with a theta each. The mask is sampled by nearest neighbour on the same grid,
// so a label never blends into another.
import { F, torch, type Tensor } from '../../torch/index.js';
import { readOptions } from '../../validate.js';
import { DEFAULT_IGNORE_INDEX, type Batch } from '../dataset.js';
import type { Random } from '../random.js';
import { readP, readRange, uniform, type Range } from './options.js';
import type { BorderMode } from './remap.js';
import {
  BatchTransform,
  mapMeta,
  mergeSamples,
  pickedIndices,
  replaceBatch,
  selectSamples,
  type BatchShape,
  type PixelMap,
} from './transform.js';

export type WarpBorderMode = Exclude<BorderMode, 'wrap'>;
const WARP_BORDER_MODES: readonly WarpBorderMode[] = ['constant', 'replicate', 'reflect', 'reflect101'];
export type WarpInterpolation = 'bilinear' | 'nearest' | 'bicubic';
const WARP_INTERPOLATIONS: readonly WarpInterpolation[] = ['bilinear', 'nearest', 'bicubic'];

export interface ShiftScaleRotateOptions {
  /** Shift as a fraction of the width and height, for both axes (default 0.0625: [-0.0625, 0.0625]). */
  shiftLimit?: number | [number, number];
  /** Shift along x; defaults to shiftLimit. */
  shiftLimitX?: number | [number, number];
  /** Shift along y; defaults to shiftLimit. */
  shiftLimitY?: number | [number, number];
  /** Zoom: the scale is 1 + U(scaleLimit) (default 0.1: [0.9, 1.1]). */
  scaleLimit?: number | [number, number];
  /** Rotation in degrees, counter-clockwise (default 45: [-45, 45]). */
  rotateLimit?: number | [number, number];
  /** Image interpolation (default 'bilinear'); the mask is always nearest. */
  interpolation?: WarpInterpolation;
  /** What pixels from outside the image read (default 'constant', as albumentations 2). */
  borderMode?: WarpBorderMode;
  /** Image value outside under 'constant' (default 0). */
  fill?: number;
  /** Mask value outside under 'constant' (default 255, DEFAULT_IGNORE_INDEX). */
  ignoreIndex?: number;
  p?: number;
}

/** Per-sample draw: shift (fractions), scale, angle (degrees). */
interface Warp {
  dx: number;
  dy: number;
  scale: number;
  angle: number;
}

/** Tie-breaking nudge for nearest sampling, in pixels: halves round up, not to even or by float noise. */
const NEAREST_NUDGE = 1e-3;

/**
 * Shifts, scales and rotates each sample about its centre (albumentations' ShiftScaleRotate:
 * dst = C + T + R(angle) s (src - C) with C the centre ((W - 1) / 2, (H - 1) / 2), T = (dx W,
 * dy H), a positive angle turning counter-clockwise; p = 0.5 by default). One isotropic scale
 * per sample, as albumentations 1.x (2.x draws x and y scales apart) and shifts in fractional
 * pixels (2.x truncates them to whole ones). Border modes map to grid_sample's: 'constant' ->
 * zeros (plus `fill`), 'replicate' -> border, 'reflect' -> reflection about pixel edges,
 * 'reflect101' -> reflection about edge pixel centres (align_corners true).
 */
export class ShiftScaleRotate extends BatchTransform<Warp> {
  readonly shiftLimitX: Range;
  readonly shiftLimitY: Range;
  readonly scaleLimit: Range;
  readonly rotateLimit: Range;
  readonly interpolation: WarpInterpolation;
  readonly borderMode: WarpBorderMode;
  readonly fill: number;
  readonly ignoreIndex: number;

  constructor(options?: ShiftScaleRotateOptions) {
    const where = 'ShiftScaleRotate';
    const o = readOptions(where, options, [
      'shiftLimit',
      'shiftLimitX',
      'shiftLimitY',
      'scaleLimit',
      'rotateLimit',
      'interpolation',
      'borderMode',
      'fill',
      'ignoreIndex',
      'p',
    ]);
    super(where, readP(o, 0.5));
    const shift = readRange(o, 'shiftLimit', [-0.0625, 0.0625], { form: 'symmetric', min: -1, max: 1 });
    this.shiftLimitX = readRange(o, 'shiftLimitX', shift, { form: 'symmetric', min: -1, max: 1 });
    this.shiftLimitY = readRange(o, 'shiftLimitY', shift, { form: 'symmetric', min: -1, max: 1 });
    this.scaleLimit = readRange(o, 'scaleLimit', [-0.1, 0.1], { form: 'symmetric', min: -1, exclusiveMin: true });
    this.rotateLimit = readRange(o, 'rotateLimit', [-45, 45], { form: 'symmetric', min: -360, max: 360 });
    this.interpolation = o.choice('interpolation', WARP_INTERPOLATIONS, 'bilinear');
    this.borderMode = o.choice('borderMode', WARP_BORDER_MODES, 'constant');
    this.fill = o.number('fill', 0);
    this.ignoreIndex = o.int('ignoreIndex', DEFAULT_IGNORE_INDEX, {});
  }

  protected draw(random: Random): Warp {
    const dx = uniform(random, this.shiftLimitX);
    const dy = uniform(random, this.shiftLimitY);
    const scale = 1 + uniform(random, this.scaleLimit);
    const angle = uniform(random, this.rotateLimit);
    return { dx, dy, scale, angle };
  }

  protected transform(batch: Batch, params: readonly (Warp | undefined)[], shape: BatchShape): Batch {
    const picked = pickedIndices(params);
    const all = picked.length === shape.n;
    const part = all ? batch : selectSamples(batch, picked);
    const warps = picked.map((i) => params[i]!);
    const { image, mask } = this.warp(part, warps, shape);
    const meta = part.meta.map((m, k) => mapMeta(m, pixelMap(warps[k]!, shape.width, shape.height), shape.width, shape.height));
    const warped = replaceBatch(part, image, mask, meta);
    return all ? warped : mergeSamples(batch, picked, warped, this.name);
  }

  private warp(part: Batch, warps: readonly Warp[], shape: BatchShape): { image: Tensor; mask: Tensor } {
    const { width: w, height: h } = shape;
    const n = warps.length;
    // reflect101 reflects about the centres of the edge pixels: grid_sample does that with align_corners.
    const alignCorners = this.borderMode === 'reflect101' && w > 1 && h > 1;
    const paddingMode = { constant: 'zeros', replicate: 'border', reflect: 'reflection', reflect101: 'reflection' }[this.borderMode] as
      | 'zeros'
      | 'border'
      | 'reflection';
    const theta = new Float32Array(n * 6);
    warps.forEach((warp, k) => theta.set(thetaOf(warp, w, h, alignCorners), k * 6));
    return torch.tidy(() => {
      const dtype = part.image.dtype;
      const grid = F.affineGrid(torch.tensor(theta, { shape: [n, 2, 3], dtype }), [n, 1, h, w], { alignCorners });
      const [sx, sy] = alignCorners
        ? [(2 * NEAREST_NUDGE) / (w - 1), (2 * NEAREST_NUDGE) / (h - 1)]
        : [(2 * NEAREST_NUDGE) / w, (2 * NEAREST_NUDGE) / h];
      const nearestGrid = grid.add(torch.tensor([sx, sy], { dtype }));
      const constant = this.borderMode === 'constant';
      const sampleImage = (x: Tensor): Tensor =>
        F.gridSample(x, this.interpolation === 'nearest' ? nearestGrid : grid, { mode: this.interpolation, paddingMode, alignCorners });
      let image: Tensor;
      if (constant && this.fill !== 0) {
        // Blend towards `fill` by how much of each output pixel's kernel fell outside.
        const c = part.image.shape[1]!;
        const both = sampleImage(torch.cat([part.image, torch.onesLike(part.image.narrow(1, 0, 1))], 1));
        const inside = both.narrow(1, c, 1);
        image = both.narrow(1, 0, c).add(inside.rsub(1).mul(this.fill));
      } else {
        image = sampleImage(part.image);
      }
      if (this.interpolation === 'bicubic') image = image.clamp(0, 1);
      const multilabel = part.mask.ndim === 4;
      const m = multilabel ? part.mask : part.mask.unsqueeze(1).to({ dtype: 'float32' });
      const k = m.shape[1]!;
      const src = constant ? torch.cat([m, torch.onesLike(m.narrow(1, 0, 1))], 1) : m;
      const sampled = F.gridSample(src.dtype === grid.dtype ? src : src.to({ dtype: grid.dtype }), nearestGrid, {
        mode: 'nearest',
        paddingMode,
        alignCorners,
      });
      let mask = sampled.narrow(1, 0, k);
      if (constant) mask = mask.where(sampled.narrow(1, k, 1).gt(0.5), this.ignoreIndex);
      mask = multilabel ? mask.to({ dtype: part.mask.dtype }) : mask.squeeze(1).long();
      return { image: image.contiguous(), mask: mask.contiguous() };
    });
  }
}

/** The inverse map (output pixel centre -> input pixel centre) as [[a, b, c], [d, e, f]] in pixels. */
function inverseCentreMap(warp: Warp, w: number, h: number): PixelMap {
  const rad = (warp.angle * Math.PI) / 180;
  const cos = Math.cos(rad) / warp.scale;
  const sin = Math.sin(rad) / warp.scale;
  // Forward: R = [[cos, sin], [-sin, cos]] * s; inverse A = R^T / s.
  const a00 = cos;
  const a01 = -sin;
  const a10 = sin;
  const a11 = cos;
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const tx = warp.dx * w;
  const ty = warp.dy * h;
  // src = C + A (dst - C - T)
  const bx = cx - a00 * (cx + tx) - a01 * (cy + ty);
  const by = cy - a10 * (cx + tx) - a11 * (cy + ty);
  return [a00, a01, bx, a10, a11, by];
}

/** theta of F.affineGrid: the inverse map in grid coordinates (-1..1 over pixel edges, or centres with alignCorners). */
function thetaOf(warp: Warp, w: number, h: number, alignCorners: boolean): number[] {
  const [a, b, c, d, e, f] = inverseCentreMap(warp, w, h);
  // pixel = centre + D g, with D the half-extent in pixels.
  const dx = alignCorners ? (w - 1) / 2 : w / 2;
  const dy = alignCorners ? (h - 1) / 2 : h / 2;
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  // g_src = D^-1 (A (C + D g) + b - C)
  return [a, (b * dy) / dx, (a * cx + b * cy + c - cx) / dx, (d * dx) / dy, e, (d * cx + e * cy + f - cy) / dy];
}

/** The same map between pixel corners (centres sit at +0.5), for the meta's georeference. */
function pixelMap(warp: Warp, w: number, h: number): PixelMap {
  const [a, b, c, d, e, f] = inverseCentreMap(warp, w, h);
  return [a, b, c + 0.5 - 0.5 * (a + b), d, e, f + 0.5 - 0.5 * (d + e)];
}
