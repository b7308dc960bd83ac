// Pooling layers. Arguments are kept as given (a number stays a number) because PyTorch's
// MaxPool2d/AvgPool2d print them that way; MaxUnpool2d normalises them to pairs, as PyTorch does.
import type { Tensor } from '../../tensor.js';
import { maxPool2d, maxUnpool2d, avgPool2d, adaptiveAvgPool2d } from '../functional/pooling.js';
import { Module } from '../module.js';
import { checkInt, invalidParameterError, outOfRangeError, readOptions } from '../../../validate.js';
import { pair, py } from './common.js';

type Size = number | [number, number];

function size(layer: string, name: string, v: unknown, min: number): Size {
  const p = pair(layer, name, v, min);
  return typeof v === 'number' ? p[0] : p;
}

export interface MaxPool2dOptions<R extends boolean = boolean> {
  /** Defaults to kernelSize. */
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  /** forward returns [output, indices] (indices for MaxUnpool2d). */
  returnIndices?: R;
  ceilMode?: boolean;
}

/** Max over kernelSize windows; with returnIndices, forward gives [output, indices]. */
export class MaxPool2d<R extends boolean = false> extends Module {
  readonly kernelSize: Size;
  readonly stride: Size;
  readonly padding: Size;
  readonly dilation: Size;
  readonly returnIndices: R;
  readonly ceilMode: boolean;

  constructor(kernelSize: number | [number, number], options?: MaxPool2dOptions<R>) {
    super();
    const n = 'MaxPool2d';
    const o = readOptions(n, options, ['stride', 'padding', 'dilation', 'returnIndices', 'ceilMode']);
    this.kernelSize = size(n, 'kernelSize', kernelSize, 1);
    this.stride = o.has('stride') ? size(n, 'stride', o.get('stride'), 1) : this.kernelSize;
    this.padding = size(n, 'padding', o.get('padding') ?? 0, 0);
    this.dilation = size(n, 'dilation', o.get('dilation') ?? 1, 1);
    this.returnIndices = o.bool('returnIndices', false) as R;
    this.ceilMode = o.bool('ceilMode', false);
  }

  forward(input: Tensor): R extends true ? [Tensor, Tensor] : Tensor {
    const options = { stride: this.stride, padding: this.padding, dilation: this.dilation, ceilMode: this.ceilMode };
    const out = this.returnIndices
      ? maxPool2d(input, this.kernelSize, { ...options, returnIndices: true })
      : maxPool2d(input, this.kernelSize, options);
    return out as R extends true ? [Tensor, Tensor] : Tensor;
  }

  override extraRepr(): string {
    return (
      `kernel_size=${py(this.kernelSize)}, stride=${py(this.stride)}, padding=${py(this.padding)}, ` +
      `dilation=${py(this.dilation)}, ceil_mode=${py(this.ceilMode)}`
    );
  }
}

/** Inverse of MaxPool2d: puts values back where `indices` says, zeros elsewhere. */
export class MaxUnpool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(
    kernelSize: number | [number, number],
    options?: { stride?: number | [number, number]; padding?: number | [number, number] },
  ) {
    super();
    const n = 'MaxUnpool2d';
    const o = readOptions(n, options, ['stride', 'padding']);
    this.kernelSize = pair(n, 'kernelSize', kernelSize, 1);
    this.stride = o.has('stride') ? pair(n, 'stride', o.get('stride'), 1) : this.kernelSize;
    this.padding = pair(n, 'padding', o.get('padding') ?? 0, 0);
  }

  /** outputSize ([h, w] or the full shape) resolves the ambiguity of odd sizes, e.g. the pooled input's shape. */
  forward(input: Tensor, indices: Tensor, outputSize?: readonly number[]): Tensor {
    return maxUnpool2d(input, indices, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      ...(outputSize === undefined ? {} : { outputSize: [...outputSize] }),
    });
  }

  override extraRepr(): string {
    return `kernel_size=${py(this.kernelSize)}, stride=${py(this.stride)}, padding=${py(this.padding)}`;
  }
}

export interface AvgPool2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  ceilMode?: boolean;
  /** Whether zero padding counts in the divisor (default true). */
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

/** Mean over kernelSize windows. */
export class AvgPool2d extends Module {
  readonly kernelSize: Size;
  readonly stride: Size;
  readonly padding: Size;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;

  constructor(kernelSize: number | [number, number], options?: AvgPool2dOptions) {
    super();
    const n = 'AvgPool2d';
    const o = readOptions(n, options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
    this.kernelSize = size(n, 'kernelSize', kernelSize, 1);
    this.stride = o.has('stride') ? size(n, 'stride', o.get('stride'), 1) : this.kernelSize;
    this.padding = size(n, 'padding', o.get('padding') ?? 0, 0);
    this.ceilMode = o.bool('ceilMode', false);
    this.countIncludePad = o.bool('countIncludePad', true);
    this.divisorOverride = o.get('divisorOverride') == null ? null : o.int('divisorOverride');
  }

  forward(input: Tensor): Tensor {
    return avgPool2d(input, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${py(this.kernelSize)}, stride=${py(this.stride)}, padding=${py(this.padding)}`;
  }
}

/** Averages into an outputSize grid whatever the input size; null keeps that dimension. */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: number | [number | null, number | null];

  constructor(outputSize: number | [number | null, number | null]) {
    super();
    const n = 'AdaptiveAvgPool2d';
    const expected = 'a positive integer or [h, w] of positive integers or nulls';
    if (typeof outputSize === 'number') checkInt(n, 'outputSize', outputSize, { min: 1 });
    else if (!Array.isArray(outputSize) || outputSize.length !== 2 || !outputSize.every((v) => v === null || typeof v === 'number')) {
      throw invalidParameterError(n, 'outputSize', expected, outputSize);
    } else if (!outputSize.every((v) => v === null || (Number.isInteger(v) && v > 0))) {
      throw outOfRangeError(n, 'outputSize', expected, outputSize);
    }
    this.outputSize = Array.isArray(outputSize) ? [outputSize[0], outputSize[1]] : outputSize;
  }

  forward(input: Tensor): Tensor {
    return adaptiveAvgPool2d(input, this.outputSize);
  }

  override extraRepr(): string {
    return `output_size=${py(this.outputSize)}`;
  }
}
