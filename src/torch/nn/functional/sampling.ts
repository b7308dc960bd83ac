// Resampling and padding.
import { native } from '../../native.js';
import type { Tensor } from '../../tensor.js';
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
