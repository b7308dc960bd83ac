// Upsample: F.interpolate as a layer.
import type { Tensor } from '../../tensor.js';
import { interpolate, type InterpolateMode } from '../functional/sampling.js';
import { Module } from '../module.js';
import { checkBoolOption, describe, opts, py } from './common.js';

export interface UpsampleOptions {
  size?: number | [number, number];
  scaleFactor?: number | [number, number];
  mode?: InterpolateMode;
  /** Only for 'bilinear' and 'bicubic'; PyTorch's default (null) means false. */
  alignCorners?: boolean | null;
  recomputeScaleFactor?: boolean | null;
}

const MODES: InterpolateMode[] = ['nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area'];

/** Resizes (N, C, H, W) to `size` or by `scaleFactor` (give exactly one). */
export class Upsample extends Module {
  readonly size: number | [number, number] | null;
  readonly scaleFactor: number | [number, number] | null;
  readonly mode: InterpolateMode;
  readonly alignCorners: boolean | null;
  readonly recomputeScaleFactor: boolean | null;

  constructor(options: UpsampleOptions) {
    super();
    const n = 'Upsample';
    const o = opts(n, options, ['size', 'scaleFactor', 'mode', 'alignCorners', 'recomputeScaleFactor']);
    if ((o.size == null) === (o.scaleFactor == null)) throw new TypeError(`${n}: give exactly one of size and scaleFactor`);
    this.mode = o.mode ?? 'nearest';
    if (!MODES.includes(this.mode)) throw new TypeError(`${n}: mode must be one of ${MODES.join(', ')}; got ${describe(this.mode)}`);
    this.alignCorners = o.alignCorners == null ? null : checkBoolOption(n, 'alignCorners', o.alignCorners, false);
    if (this.alignCorners !== null && this.mode !== 'bilinear' && this.mode !== 'bicubic') {
      throw new TypeError(`${n}: alignCorners only applies to modes 'bilinear' and 'bicubic', not '${this.mode}'`);
    }
    this.recomputeScaleFactor = o.recomputeScaleFactor == null ? null : checkBoolOption(n, 'recomputeScaleFactor', o.recomputeScaleFactor, false);
    const positive = (v: unknown, int: boolean) => typeof v === 'number' && v > 0 && Number.isFinite(v) && (!int || Number.isInteger(v));
    const check = (v: unknown, name: string, int: boolean) => {
      const ok = positive(v, int) || (Array.isArray(v) && v.length === 2 && v.every((x) => positive(x, int)));
      if (!ok) throw new TypeError(`${n}: ${name} must be a positive ${int ? 'integer' : 'number'} or a pair of them, got ${describe(v)}`);
    };
    if (o.size != null) check(o.size, 'size', true);
    if (o.scaleFactor != null) check(o.scaleFactor, 'scaleFactor', false);
    this.size = o.size == null ? null : Array.isArray(o.size) ? [o.size[0], o.size[1]] : o.size;
    this.scaleFactor = o.scaleFactor == null ? null : Array.isArray(o.scaleFactor) ? [o.scaleFactor[0], o.scaleFactor[1]] : o.scaleFactor;
  }

  forward(input: Tensor): Tensor {
    return interpolate(input, {
      ...(this.size !== null ? { size: this.size } : { scaleFactor: this.scaleFactor! }),
      mode: this.mode,
      ...(this.alignCorners !== null ? { alignCorners: this.alignCorners } : {}),
      ...(this.recomputeScaleFactor !== null ? { recomputeScaleFactor: this.recomputeScaleFactor } : {}),
    });
  }

  override extraRepr(): string {
    // PyTorch stores scale_factor as float(s) and prints mode without quotes.
    const info = this.scaleFactor !== null ? `scale_factor=${py(this.scaleFactor, true)}` : `size=${py(this.size)}`;
    return `${info}, mode=${this.mode}`;
  }
}
