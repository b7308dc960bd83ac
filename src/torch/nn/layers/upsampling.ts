// Upsample: F.interpolate as a layer.
import type { Tensor } from '../../tensor.js';
import { readOptions, show } from '../../../validate.js';
import { checkOutputSize, checkScaleFactor, interpolate, type InterpolateMode } from '../functional/sampling.js';
import { Module } from '../module.js';
import { py } from './common.js';

export interface UpsampleOptions {
  size?: number | [number, number];
  scaleFactor?: number | [number, number];
  mode?: InterpolateMode;
  /** Only for 'bilinear' and 'bicubic'; PyTorch's default (null) means false. */
  alignCorners?: boolean | null;
  recomputeScaleFactor?: boolean | null;
}

const MODES: InterpolateMode[] = ['nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area'];

function keepShape(given: unknown, pair: number[]): number | [number, number] {
  return typeof given === 'number' ? given : [pair[0]!, pair[1]!];
}

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
    const o = readOptions(n, options, ['size', 'scaleFactor', 'mode', 'alignCorners', 'recomputeScaleFactor']);
    const size = o.get('size');
    const scaleFactor = o.get('scaleFactor');
    if ((size == null) === (scaleFactor == null)) throw new TypeError(`${n}: give exactly one of size and scaleFactor`);
    this.mode = o.choice('mode', MODES, 'nearest');
    this.alignCorners = o.get('alignCorners') == null ? null : o.bool('alignCorners');
    if (this.alignCorners !== null && this.mode !== 'bilinear' && this.mode !== 'bicubic') {
      throw new TypeError(`${n}: alignCorners only applies to modes 'bilinear' and 'bicubic', not ${show(this.mode)}`);
    }
    this.recomputeScaleFactor = o.get('recomputeScaleFactor') == null ? null : o.bool('recomputeScaleFactor');
    // Kept as given (a number stays a number) for the repr; checked as F.interpolate checks them.
    this.size = size == null ? null : keepShape(size, checkOutputSize(n, size));
    this.scaleFactor = scaleFactor == null ? null : keepShape(scaleFactor, checkScaleFactor(n, scaleFactor));
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
