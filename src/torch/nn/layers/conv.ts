// Convolution layers. Parameters are created and initialised in PyTorch's order (weight by
// kaiming_uniform_(a=sqrt(5)), then bias) so the same seed gives the same weights.
import type { Tensor } from '../../tensor.js';
import { empty } from '../../ops/creation.js';
import { conv2d, convTranspose2d } from '../functional/conv.js';
import { pad } from '../functional/sampling.js';
import { Module } from '../module.js';
import * as init from '../init.js';
import { checkInt, checkIntList, invalidParameterError, readOptions, type OptionReader } from '../../../validate.js';
import { factory, pair, py, FACTORY_KEYS, type LayerFactoryOptions } from './common.js';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

export interface Conv2dOptions extends LayerFactoryOptions {
  stride?: number | number[];
  padding?: number | number[] | 'same' | 'valid';
  dilation?: number | number[];
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
}

export interface ConvTranspose2dOptions extends LayerFactoryOptions {
  stride?: number | number[];
  padding?: number | number[];
  outputPadding?: number | number[];
  groups?: number;
  bias?: boolean;
  dilation?: number | number[];
  paddingMode?: 'zeros';
}

const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate', 'circular'];
const TRANSPOSED_PADDING_MODES: readonly PaddingMode[] = ['zeros'];

/** Shared by Conv2d and ConvTranspose2d, as PyTorch's _ConvNd. */
abstract class ConvNd extends Module {
  /** Changes only through setInChannels (smp adapts an encoder's first conv to other bands). */
  inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  // Mutable as in PyTorch, where encoders are turned into dilated ones (output stride 8/16)
  // by setting stride, dilation and padding on existing convolutions.
  stride: [number, number];
  padding: [number, number] | 'same' | 'valid';
  dilation: [number, number];
  outputPadding: [number, number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;

  protected constructor(
    name: string,
    transposed: boolean,
    inChannels: number,
    outChannels: number,
    kernelSize: number | number[],
    o: OptionReader<Conv2dOptions | ConvTranspose2dOptions>,
  ) {
    super();
    this.inChannels = checkInt(name, 'inChannels', inChannels, { min: 1 });
    this.outChannels = checkInt(name, 'outChannels', outChannels, { min: 1 });
    this.kernelSize = pair(name, 'kernelSize', kernelSize, 1);
    this.stride = pair(name, 'stride', o.get('stride') ?? 1, 1);
    this.dilation = pair(name, 'dilation', o.get('dilation') ?? 1, 1);
    this.outputPadding = pair(name, 'outputPadding', o.get('outputPadding') ?? 0, 0);
    this.groups = o.int('groups', 1);
    if (inChannels % this.groups !== 0) {
      throw new RangeError(`${name}: inChannels must be divisible by groups (inChannels=${inChannels}, groups=${this.groups})`);
    }
    if (outChannels % this.groups !== 0) {
      throw new RangeError(`${name}: outChannels must be divisible by groups (outChannels=${outChannels}, groups=${this.groups})`);
    }
    const padding = o.get('padding') ?? 0;
    if (typeof padding === 'string') {
      if (transposed || (padding !== 'same' && padding !== 'valid')) {
        throw invalidParameterError(
          name,
          'padding',
          transposed ? 'an integer or [h, w]' : "an integer, [h, w], 'same' or 'valid'",
          padding,
        );
      }
      if (padding === 'same' && (this.stride[0] !== 1 || this.stride[1] !== 1)) {
        throw new RangeError(`${name}: padding='same' is not supported for strided convolutions (stride=[${this.stride.join(', ')}])`);
      }
      this.padding = padding;
    } else {
      this.padding = pair(name, 'padding', padding, 0);
    }
    this.paddingMode = o.choice('paddingMode', transposed ? TRANSPOSED_PADDING_MODES : PADDING_MODES, 'zeros');
    const f = factory(o);
    const hasBias = o.bool('bias', true);
    const [kh, kw] = this.kernelSize;
    const shape = transposed ? [inChannels, outChannels / this.groups, kh, kw] : [outChannels, inChannels / this.groups, kh, kw];
    this.registerParameter('weight', empty(shape, f));
    this.registerParameter('bias', hasBias ? empty([outChannels], f) : null);
    this.resetParameters();
  }

  get weight(): Tensor {
    return this.getParameter('weight')!;
  }

  get bias(): Tensor | null {
    return this.getParameter('bias') ?? null;
  }

  /** Takes `weight` (shape for the new channel count) in place of the current one, which is disposed. */
  setInChannels(inChannels: number, weight: Tensor): void {
    const w = this.weight.shape;
    const expected = this.transposedWeight ? [inChannels, ...w.slice(1)] : [w[0]!, inChannels / this.groups, ...w.slice(2)];
    if (!Number.isInteger(inChannels) || inChannels < 1 || inChannels % this.groups !== 0 || weight.shape.join() !== expected.join()) {
      throw new RangeError(
        `${this.constructor.name}.setInChannels: weight must have shape [${expected.join(', ')}] for ${inChannels} input channels, got [${weight.shape.join(', ')}]`,
      );
    }
    this.setTensor('weight', weight);
    this.inChannels = inChannels;
  }

  private get transposedWeight(): boolean {
    return this.constructor.name === 'ConvTranspose2d';
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

const CONV2D_KEYS = ['stride', 'padding', 'dilation', 'groups', 'bias', 'paddingMode', ...FACTORY_KEYS] as const;

/** 2-D convolution over (N, C, H, W); weight (out, in/groups, kH, kW). */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | number[], options?: Conv2dOptions) {
    super('Conv2d', false, inChannels, outChannels, kernelSize, readOptions('Conv2d', options, CONV2D_KEYS));
  }

  forward(input: Tensor): Tensor {
    const common = { bias: this.bias, stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode === 'zeros') return conv2d(input, this.weight, { ...common, padding: this.padding });
    return conv2d(pad(input, this.padAmounts(), { mode: this.paddingMode }), this.weight, { ...common, padding: 0 });
  }

  /** F.pad's [left, right, top, bottom] for the non-zero padding modes. */
  private padAmounts(): number[] {
    const p = this.padding;
    if (p === 'valid') return [0, 0, 0, 0];
    if (p !== 'same') return [p[1], p[1], p[0], p[0]];
    // PyTorch puts the odd pixel of 'same' padding on the right/bottom.
    const [th, tw] = [0, 1].map((i) => this.dilation[i]! * (this.kernelSize[i]! - 1)) as [number, number];
    return [Math.floor(tw / 2), tw - Math.floor(tw / 2), Math.floor(th / 2), th - Math.floor(th / 2)];
  }
}

const CONVT_KEYS = ['stride', 'padding', 'outputPadding', 'groups', 'bias', 'dilation', 'paddingMode', ...FACTORY_KEYS] as const;

/** Transposed 2-D convolution; weight (in, out/groups, kH, kW) as in PyTorch. */
export class ConvTranspose2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | number[], options?: ConvTranspose2dOptions) {
    super('ConvTranspose2d', true, inChannels, outChannels, kernelSize, readOptions('ConvTranspose2d', options, CONVT_KEYS));
  }

  /** outputSize ([h, w], or with the batch/channel dims) picks the outputPadding that reaches it. */
  forward(input: Tensor, outputSize?: number[]): Tensor {
    return convTranspose2d(input, this.weight, {
      bias: this.bias,
      stride: this.stride,
      padding: this.padding as [number, number],
      groups: this.groups,
      dilation: this.dilation,
      outputPadding: outputSize === undefined ? this.outputPadding : this.outputPaddingFor(input, outputSize),
    });
  }

  private outputPaddingFor(input: Tensor, outputSize: number[]): number[] {
    const nonSpatial = input.ndim === 4 ? 2 : 1;
    let size = checkIntList('ConvTranspose2d', 'outputSize', outputSize);
    if (size.length === nonSpatial + 2) size = size.slice(nonSpatial);
    if (size.length !== 2) {
      throw new RangeError(
        `ConvTranspose2d: for ${input.ndim}-D input, outputSize must have 2 or ${nonSpatial + 2} elements (got ${outputSize.length})`,
      );
    }
    const pad = this.padding as [number, number];
    const min = [0, 1].map(
      (d) => (input.shape[d + nonSpatial]! - 1) * this.stride[d]! - 2 * pad[d]! + this.dilation[d]! * (this.kernelSize[d]! - 1) + 1,
    );
    const max = min.map((m, d) => m + this.stride[d]! - 1);
    if (size.some((s, d) => s < min[d]! || s > max[d]!)) {
      throw new RangeError(
        `ConvTranspose2d: requested an output size of [${size.join(', ')}], but valid sizes range from [${min.join(', ')}] to [${max.join(', ')}] (for an input of [${input.shape.slice(nonSpatial).join(', ')}])`,
      );
    }
    return size.map((s, d) => s - min[d]!);
  }
}
