// Resampling and padding.
import { native } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import { aten, atenOptional, checkInts, checkNumber, checkOptions, tid, wrap } from '../../ops/registry.js';

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

/** Resizes (N, C, H, W) to `size` or by `scaleFactor` (exactly one of them), as F.interpolate. */
export function interpolate(input: Tensor, options: InterpolateOptions): Tensor {
  const op = 'F.interpolate';
  if (options === undefined) throw new TypeError(`${op}: options with size or scaleFactor are required, e.g. { scaleFactor: 2, mode: 'bilinear' }`);
  checkOptions(options, ['size', 'scaleFactor', 'mode', 'alignCorners', 'recomputeScaleFactor'], op);
  const x = tid(input, op, 'input');
  const s = input.shape;
  if (s.length !== 4) throw new RangeError(`${op}: input must be 4-D (N, C, H, W), got shape [${s.join(', ')}]`);
  const mode = options.mode ?? 'nearest';
  const linear = mode === 'bilinear' || mode === 'bicubic';
  if (options.alignCorners !== undefined && !linear) {
    throw new TypeError(`${op}: alignCorners only applies to 'bilinear' and 'bicubic', not '${mode}'`);
  }
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new TypeError(`${op}: give exactly one of size and scaleFactor`);
  }
  let size: number[] | null = options.size === undefined ? null : checkInts(options.size, op, 'size', 2);
  let scales: number[] | null = null;
  if (options.scaleFactor !== undefined) {
    const f = typeof options.scaleFactor === 'number' ? [options.scaleFactor, options.scaleFactor] : options.scaleFactor;
    if (!Array.isArray(f) || f.length !== 2) throw new TypeError(`${op}: scaleFactor must be a number or [sh, sw]`);
    f.forEach((v) => { if (checkNumber(v, op, 'scaleFactor') <= 0) throw new RangeError(`${op}: scaleFactor must be positive, got ${v}`); });
    if (options.recomputeScaleFactor || mode === 'area') size = [Math.floor(s[2]! * f[0]!), Math.floor(s[3]! * f[1]!)];
    else scales = f;
  }
  if (size && size.some((v) => v <= 0)) throw new RangeError(`${op}: output size must be positive, got [${size.join(', ')}]`);
  switch (mode) {
    case 'nearest': return wrap(native.call(NEAREST, x, size, scales));
    case 'nearest-exact': return wrap(native.call(NEAREST_EXACT, x, size, scales));
    case 'bilinear': return wrap(native.call(BILINEAR, x, size, options.alignCorners ?? false, scales));
    case 'bicubic': return wrap(native.call(BICUBIC, x, size, options.alignCorners ?? false, scales));
    case 'area': return wrap(native.call(ADAPTIVE_AVG, x, size));
    default: throw new TypeError(`${op}: mode must be one of nearest, nearest-exact, bilinear, bicubic, area; got '${String(mode)}'`);
  }
}

const PAD = aten('pad');
/** Pads the last dimensions: `pad` is [left, right, top, bottom, ...] as in F.pad. */
export function pad(input: Tensor, padding: number[], options?: { mode?: 'constant' | 'reflect' | 'replicate' | 'circular'; value?: number }): Tensor {
  const op = 'F.pad';
  checkOptions(options, ['mode', 'value'], op);
  const x = tid(input, op, 'input');
  const p = checkInts(padding, op, 'pad');
  if (p.length % 2 !== 0 || p.length / 2 > input.shape.length) {
    throw new RangeError(`${op}: pad must have an even length of at most 2 * ${input.shape.length}, got [${p.join(', ')}]`);
  }
  const mode = options?.mode ?? 'constant';
  if (!['constant', 'reflect', 'replicate', 'circular'].includes(mode)) {
    throw new TypeError(`${op}: mode must be constant, reflect, replicate or circular; got '${mode}'`);
  }
  if (mode !== 'constant' && options?.value !== undefined) throw new TypeError(`${op}: value only applies to mode 'constant'`);
  return wrap(native.call(PAD, x, p, mode, mode === 'constant' ? options?.value ?? 0 : null));
}
