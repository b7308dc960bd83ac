// Resampling and padding.
import { native } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import { isFloatingDType } from '../../dtype.js';
import * as v from '../../../validate.js';
import { aten, atenOptional, checkBool, checkInts, checkOptionKeys, tid, wrap } from '../../ops/registry.js';

export type InterpolateMode = 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic' | 'area';
export interface InterpolateOptions {
  size?: number | number[];
  scaleFactor?: number | number[];
  mode?: InterpolateMode;
  alignCorners?: boolean;
  recomputeScaleFactor?: boolean;
}

const NEAREST = aten('upsample_nearest2d', 'vec');
const NEAREST_EXACT = atenOptional('_upsample_nearest_exact2d', 'vec');
const BILINEAR = aten('upsample_bilinear2d', 'vec');
const BICUBIC = aten('upsample_bicubic2d', 'vec');
const ADAPTIVE_AVG = aten('adaptive_avg_pool2d');

const MODES: readonly InterpolateMode[] = ['nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area'];
const SCALE_FACTOR = 'a positive number or an array of 2 of them';

/** `size` of F.interpolate and nn.Upsample: a positive integer or [h, w] of them, as [h, w]. */
export function checkOutputSize(op: string, size: unknown): number[] {
  const hw = checkInts(op, 'size', size, 2);
  return hw[0]! > 0 && hw[1]! > 0 ? hw : v.checkIntList(op, 'size', size, { length: 2, scalar: true, min: 1 });
}

/** `scaleFactor` of F.interpolate and nn.Upsample: a positive number or [h, w] of them, as [h, w]. */
export function checkScaleFactor(op: string, scaleFactor: unknown): number[] {
  const f = typeof scaleFactor === 'number' ? [scaleFactor, scaleFactor] : scaleFactor;
  if (!Array.isArray(f) || f.length !== 2 || typeof f[0] !== 'number' || typeof f[1] !== 'number') {
    throw v.invalidParameterError(op, 'scaleFactor', SCALE_FACTOR, scaleFactor);
  }
  if (!(f[0] > 0 && f[1] > 0 && Number.isFinite(f[0]) && Number.isFinite(f[1])))
    throw v.outOfRangeError(op, 'scaleFactor', SCALE_FACTOR, scaleFactor);
  return f;
}

/** Resizes (N, C, H, W) to `size` or by `scaleFactor` (exactly one of them), as F.interpolate. */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const op = 'F.interpolate';
  if (options === undefined)
    throw v.invalidParameterError(op, 'options', "an object with size or scaleFactor, e.g. { scaleFactor: 2, mode: 'bilinear' }", options);
  checkOptionKeys(op, options, ['size', 'scaleFactor', 'mode', 'alignCorners', 'recomputeScaleFactor']);
  const x = tid(input, op, 'input');
  const s = input.shape;
  if (s.length !== 4) throw new RangeError(`${op}: input must be 4-D (N, C, H, W), got shape [${s.join(', ')}]`);
  const mode = options.mode === undefined ? 'nearest' : v.checkChoice(op, 'mode', options.mode, MODES);
  const linear = mode === 'bilinear' || mode === 'bicubic';
  if (options.alignCorners !== undefined && !linear) {
    throw new TypeError(`${op}: alignCorners only applies to 'bilinear' and 'bicubic', not ${v.show(mode)}`);
  }
  const alignCorners = options.alignCorners === undefined ? false : checkBool(op, 'alignCorners', options.alignCorners);
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new TypeError(`${op}: give exactly one of size and scaleFactor`);
  }
  let size: number[] | null = options.size === undefined ? null : checkOutputSize(op, options.size);
  let scales: number[] | null = null;
  if (options.scaleFactor !== undefined) {
    const f = checkScaleFactor(op, options.scaleFactor);
    if (options.recomputeScaleFactor || mode === 'area') {
      size = [Math.floor(s[2]! * f[0]!), Math.floor(s[3]! * f[1]!)];
      if (size[0]! <= 0 || size[1]! <= 0)
        throw new RangeError(
          `${op}: scaleFactor ${v.show(options.scaleFactor)} gives an output size of [${size.join(', ')}] for input [${s.join(', ')}]; it must be positive`,
        );
    } else {
      scales = f;
    }
  }
  switch (mode) {
    case 'nearest':
      return wrap(native.call(NEAREST, x, size, scales));
    case 'nearest-exact':
      return wrap(native.call(NEAREST_EXACT, x, size, scales));
    case 'bilinear':
      return wrap(native.call(BILINEAR, x, size, alignCorners, scales));
    case 'bicubic':
      return wrap(native.call(BICUBIC, x, size, alignCorners, scales));
    case 'area':
      return wrap(native.call(ADAPTIVE_AVG, x, size));
  }
}

const PAD = aten('pad');
const PAD_MODES = ['constant', 'reflect', 'replicate', 'circular'] as const;
/** Pads the last dimensions: `pad` is [left, right, top, bottom, ...] as in F.pad. */
export function pad(
  input: Tensor,
  padding: number[],
  options?: { mode?: 'constant' | 'reflect' | 'replicate' | 'circular'; value?: number },
): Tensor {
  const op = 'F.pad';
  checkOptionKeys(op, options, ['mode', 'value']);
  const x = tid(input, op, 'input');
  const p = checkInts(op, 'pad', padding);
  if (p.length % 2 !== 0 || p.length / 2 > input.shape.length) {
    throw new RangeError(`${op}: pad must have an even length of at most 2 * ${input.shape.length}, got [${p.join(', ')}]`);
  }
  const mode = options?.mode === undefined ? 'constant' : v.checkChoice(op, 'mode', options.mode, PAD_MODES);
  if (mode !== 'constant' && options?.value !== undefined) throw new TypeError(`${op}: value only applies to mode 'constant'`);
  return wrap(native.call(PAD, x, p, mode, mode === 'constant' ? (options?.value ?? 0) : null));
}

export type GridSampleMode = 'bilinear' | 'nearest' | 'bicubic';
export type GridSamplePaddingMode = 'zeros' | 'border' | 'reflection';
export interface GridSampleOptions {
  /** 'bilinear' (default; trilinear for 5-D input), 'nearest' or 'bicubic' (4-D only). */
  mode?: GridSampleMode;
  /** What a location outside the input reads: 'zeros' (default), 'border' (the nearest edge pixel), 'reflection'. */
  paddingMode?: GridSamplePaddingMode;
  /** -1 and 1 are the centres of the corner pixels (true) or their outer edges (false, the default). */
  alignCorners?: boolean;
}

const GRID_SAMPLER = aten('grid_sampler');
const AFFINE_GRID = aten('affine_grid_generator');
const GRID_MODES: readonly GridSampleMode[] = ['bilinear', 'nearest', 'bicubic'];
const GRID_PADDING: readonly GridSamplePaddingMode[] = ['zeros', 'border', 'reflection'];

/** 'an int64', 'a float64'. */
function withArticle(dtype: string): string {
  return `${/^[aeiou]/.test(dtype) ? 'an' : 'a'} ${dtype}`;
}

function shapeText(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

/**
 * Samples `input` (N, C, H, W) at the locations of `grid` (N, Ho, Wo, 2), whose last dimension
 * holds (x, y) normalised to [-1, 1] over the input's width and height; or a 5-D input
 * (N, C, D, H, W) at a grid (N, Do, Ho, Wo, 3) of (x, y, z). Returns (N, C, Ho, Wo), as
 * PyTorch's F.grid_sample (aten `grid_sampler`, differentiable in both input and grid). The
 * defaults are PyTorch's, except that alignCorners false is simply the default, not a warning.
 */
export function gridSample(input: Tensor, grid: Tensor, options?: GridSampleOptions): Tensor {
  const op = 'F.gridSample';
  checkOptionKeys(op, options, ['mode', 'paddingMode', 'alignCorners']);
  const x = tid(input, op, 'input');
  const g = tid(grid, op, 'grid');
  const mode = options?.mode === undefined ? 'bilinear' : v.checkChoice(op, 'mode', options.mode, GRID_MODES);
  const padding = options?.paddingMode === undefined ? 'zeros' : v.checkChoice(op, 'paddingMode', options.paddingMode, GRID_PADDING);
  const alignCorners = options?.alignCorners === undefined ? false : checkBool(op, 'alignCorners', options.alignCorners);
  const s = input.shape;
  const gs = grid.shape;
  if (s.length !== 4 && s.length !== 5)
    throw new RangeError(`${op}: input must be 4-D (N, C, H, W) or 5-D (N, C, D, H, W), got shape ${shapeText(input)}`);
  const dims = s.length - 2;
  if (gs.length !== s.length || gs[gs.length - 1] !== dims || gs[0] !== s[0]) {
    const want = dims === 2 ? `[${s[0]}, Ho, Wo, 2]` : `[${s[0]}, Do, Ho, Wo, 3]`;
    throw new RangeError(`${op}: grid must have shape ${want} for input ${shapeText(input)}, got ${shapeText(grid)}`);
  }
  if (!isFloatingDType(input.dtype))
    throw new TypeError(`${op}: input must be a floating point tensor, got ${withArticle(input.dtype)} tensor`);
  if (grid.dtype !== input.dtype)
    throw new TypeError(`${op}: grid must be a ${input.dtype} tensor (the dtype of input), got ${withArticle(grid.dtype)} tensor`);
  if (mode === 'bicubic' && dims !== 2) throw new TypeError(`${op}: mode 'bicubic' needs a 4-D input, got shape ${shapeText(input)}`);
  for (let d = 2; d < s.length; d++) {
    if (s[d] === 0) throw new RangeError(`${op}: input must have non-empty spatial dimensions, got shape ${shapeText(input)}`);
  }
  return wrap(native.call(GRID_SAMPLER, x, g, GRID_MODES.indexOf(mode), GRID_PADDING.indexOf(padding), alignCorners));
}

/**
 * The sampling grid of a batch of affine maps, for gridSample: `theta` (N, 2, 3) maps each
 * output location (x, y, 1), normalised to [-1, 1], to an input location, for an output of
 * `size` [N, C, H, W] (grid (N, H, W, 2)); or (N, 3, 4) with a 5-D size (grid (N, D, H, W, 3)).
 * As PyTorch's F.affine_grid (aten `affine_grid_generator`, differentiable in theta).
 */
export function affineGrid(theta: Tensor, size: readonly number[], options?: { alignCorners?: boolean }): Tensor {
  const op = 'F.affineGrid';
  checkOptionKeys(op, options, ['alignCorners']);
  const t = tid(theta, op, 'theta');
  const alignCorners = options?.alignCorners === undefined ? false : checkBool(op, 'alignCorners', options.alignCorners);
  const sz = checkInts(op, 'size', size);
  if (sz.length !== 4 && sz.length !== 5)
    throw v.outOfRangeError(op, 'size', 'an array of 4 ([N, C, H, W]) or 5 ([N, C, D, H, W]) positive integers', size);
  if (!sz.every((d) => d > 0)) throw v.outOfRangeError(op, 'size', 'positive integers', size);
  if (!isFloatingDType(theta.dtype))
    throw new TypeError(`${op}: theta must be a floating point tensor, got ${withArticle(theta.dtype)} tensor`);
  const rows = sz.length - 2;
  const ts = theta.shape;
  if (ts.length !== 3 || ts[0] !== sz[0] || ts[1] !== rows || ts[2] !== rows + 1) {
    throw new RangeError(
      `${op}: theta must have shape [${sz[0]}, ${rows}, ${rows + 1}] for size [${sz.join(', ')}], got ${shapeText(theta)}`,
    );
  }
  return wrap(native.call(AFFINE_GRID, t, sz, alignCorners));
}
