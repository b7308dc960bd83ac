// Convolution layers. Parameters are created and initialised in PyTorch's order (weight by
// kaiming_uniform_(a=sqrt(5)), then bias) so the same seed gives the same weights.
import type { Tensor } from '../../tensor.js';
import { empty } from '../../ops/creation.js';
import { conv2d, convTranspose2d } from '../functional/conv.js';
import { pad } from '../functional/sampling.js';
import { Module } from '../module.js';
import * as init from '../init.js';
import { checkPositiveInt, describe, opts, pair, py } from './common.js';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

export interface Conv2dOptions {
  stride?: number | number[];
  padding?: number | number[] | 'same' | 'valid';
  dilation?: number | number[];
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
  dtype?: 'float32' | 'float64';
}

export interface ConvTranspose2dOptions {
  stride?: number | number[];
  padding?: number | number[];
  outputPadding?: number | number[];
  groups?: number;
  bias?: boolean;
  dilation?: number | number[];
  paddingMode?: 'zeros';
  dtype?: 'float32' | 'float64';
}

const PADDING_MODES = ['zeros', 'reflect', 'replicate', 'circular'];

/** Shared by Conv2d and ConvTranspose2d, as PyTorch's _ConvNd. */
abstract class ConvNd extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same' | 'valid';
  readonly dilation: [number, number];
  readonly outputPadding: [number, number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;

  protected constructor(name: string, transposed: boolean, inChannels: number, outChannels: number, kernelSize: number | number[],
    o: Partial<Conv2dOptions & ConvTranspose2dOptions>) {
    super();
    this.inChannels = checkPositiveInt(name, 'inChannels', inChannels);
    this.outChannels = checkPositiveInt(name, 'outChannels', outChannels);
    this.kernelSize = pair(name, 'kernelSize', kernelSize, 1);
    this.stride = pair(name, 'stride', o.stride ?? 1, 1);
    this.dilation = pair(name, 'dilation', o.dilation ?? 1, 1);
    this.outputPadding = pair(name, 'outputPadding', o.outputPadding ?? 0, 0);
    this.groups = checkPositiveInt(name, 'groups', o.groups ?? 1);
    if (inChannels % this.groups !== 0) {
      throw new RangeError(`${name}: inChannels must be divisible by groups (inChannels=${inChannels}, groups=${this.groups})`);
    }
    if (outChannels % this.groups !== 0) {
      throw new RangeError(`${name}: outChannels must be divisible by groups (outChannels=${outChannels}, groups=${this.groups})`);
    }
    const padding = o.padding ?? 0;
    if (typeof padding === 'string') {
      if (transposed || (padding !== 'same' && padding !== 'valid')) {
        throw new TypeError(`${name}: padding must be ${transposed ? 'an integer or [h, w]' : "an integer, [h, w], 'same' or 'valid'"}, got ${describe(padding)}`);
      }
      if (padding === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) {
        throw new RangeError(`${name}: padding='same' is not supported for strided convolutions (stride=[${this.stride.join(', ')}])`);
      }
      this.padding = padding;
    } else {
      this.padding = pair(name, 'padding', padding, 0);
    }
    const mode = o.paddingMode ?? 'zeros';
    if (!PADDING_MODES.includes(mode)) {
      throw new TypeError(`${name}: paddingMode must be one of ${PADDING_MODES.join(', ')}, got ${describe(mode)}`);
    }
    if (transposed && mode !== 'zeros') throw new TypeError(`${name}: only paddingMode 'zeros' is supported, got ${describe(mode)}`);
    this.paddingMode = mode;
    const dtype = o.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`${name}: dtype must be 'float32' or 'float64', got ${describe(dtype)}`);
    const [kh, kw] = this.kernelSize;
    const shape = transposed ? [inChannels, outChannels / this.groups, kh, kw] : [outChannels, inChannels / this.groups, kh, kw];
    this.registerParameter('weight', empty(shape, { dtype }));
    this.registerParameter('bias', (o.bias ?? true) ? empty([outChannels], { dtype }) : null);
    this.resetParameters();
  }

  get weight(): Tensor {
    return this.getParameter('weight')!;
  }

  get bias(): Tensor | null {
    return this.getParameter('bias') ?? null;
  }

  /** PyTorch's reset_parameters: kaiming_uniform_(a=sqrt(5)) then U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    const bias = this.bias;
    if (bias !== null) {
      const [fanIn] = init.calculateFanInAndFanOut(this.weight);
      if (fanIn !== 0) {
        const bound = 1 / Math.sqrt(fanIn);
        init.uniform_(bias, { a: -bound, b: bound });
      }
    }
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${py(this.kernelSize)}, stride=${py(this.stride)}`;
    if (typeof this.padding === 'string' || this.padding.some((p) => p !== 0)) s += `, padding=${py(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${py(this.dilation)}`;
    if (this.outputPadding.some((p) => p !== 0)) s += `, output_padding=${py(this.outputPadding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    if (this.paddingMode !== 'zeros') s += `, padding_mode=${this.paddingMode}`;
    return s;
  }
}

const CONV2D_KEYS = ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode', 'dtype'] as const;

/** 2-D convolution over (N, C, H, W); weight (out, in/groups, kH, kW). */
export class Conv2d extends ConvNd {
  /** F.pad's [left, right, top, bottom] for the non-zero padding modes. */
  private readonly padAmounts: number[];

  constructor(inChannels: number, outChannels: number, kernelSize: number | number[], options?: Conv2dOptions) {
    const o = opts('Conv2d', options, CONV2D_KEYS);
    super('Conv2d', false, inChannels, outChannels, kernelSize, o);
    const p = this.padding;
    if (p === 'valid') this.padAmounts = [0, 0, 0, 0];
    else if (p === 'same') {
      // PyTorch puts the odd pixel of 'same' padding on the right/bottom.
      const total = this.dilation.map((d, i) => d * (this.kernelSize[i]! - 1));
      this.padAmounts = [Math.floor(total[1]! / 2), total[1]! - Math.floor(total[1]! / 2), Math.floor(total[0]! / 2), total[0]! - Math.floor(total[0]! / 2)];
    } else this.padAmounts = [p[1], p[1], p[0], p[0]];
  }

  forward(input: Tensor): Tensor {
    const common = { bias: this.bias, stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode === 'zeros') return conv2d(input, this.weight, { ...common, padding: this.padding });
    const padded = pad(input, this.padAmounts, { mode: this.paddingMode });
    try {
      return conv2d(padded, this.weight, { ...common, padding: 0 });
    } finally {
      padded.dispose();
    }
  }
}

const CONVT_KEYS = ['stride', 'padding', 'outputPadding', 'groups', 'bias', 'dilation', 'paddingMode', 'dtype'] as const;

/** Transposed 2-D convolution; weight (in, out/groups, kH, kW) as in PyTorch. */
export class ConvTranspose2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | number[], options?: ConvTranspose2dOptions) {
    const o = opts('ConvTranspose2d', options, CONVT_KEYS);
    super('ConvTranspose2d', true, inChannels, outChannels, kernelSize, o);
  }

  /** outputSize ([h, w], or with the batch/channel dims) picks the outputPadding that reaches it. */
  forward(input: Tensor, outputSize?: number[]): Tensor {
    return convTranspose2d(input, this.weight, {
      bias: this.bias, stride: this.stride, padding: this.padding as [number, number], groups: this.groups, dilation: this.dilation,
      outputPadding: outputSize === undefined ? this.outputPadding : this.outputPaddingFor(input, outputSize),
    });
  }

  private outputPaddingFor(input: Tensor, outputSize: number[]): number[] {
    const nonSpatial = input.ndim === 4 ? 2 : 1;
    let size = outputSize;
    if (!Array.isArray(size) || !size.every((v) => Number.isInteger(v))) {
      throw new TypeError(`ConvTranspose2d: outputSize must be an array of integers, got ${describe(outputSize)}`);
    }
    if (size.length === nonSpatial + 2) size = size.slice(nonSpatial);
    if (size.length !== 2) {
      throw new RangeError(`ConvTranspose2d: for ${input.ndim}-D input, outputSize must have 2 or ${nonSpatial + 2} elements (got ${outputSize.length})`);
    }
    const pad = this.padding as [number, number];
    const min = [0, 1].map((d) => (input.shape[d + nonSpatial]! - 1) * this.stride[d]! - 2 * pad[d]! + this.dilation[d]! * (this.kernelSize[d]! - 1) + 1);
    const max = min.map((m, d) => m + this.stride[d]! - 1);
    if (size.some((s, d) => s < min[d]! || s > max[d]!)) {
      throw new RangeError(`ConvTranspose2d: requested an output size of [${size.join(', ')}], but valid sizes range from [${min.join(', ')}] to [${max.join(', ')}] (for an input of [${input.shape.slice(nonSpatial).join(', ')}])`);
    }
    return size.map((s, d) => s - min[d]!);
  }
}
