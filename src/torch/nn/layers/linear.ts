// Linear, Identity and Flatten.
import type { Tensor } from '../../tensor.js';
import { empty } from '../../ops/creation.js';
import { flatten } from '../../ops/shape.js';
import { linear } from '../functional/conv.js';
import { Module } from '../module.js';
import * as init from '../init.js';
import { checkInt, readOptions } from '../../../validate.js';
import { factory, py, FACTORY_KEYS, type LayerFactoryOptions } from './common.js';

export interface LinearOptions extends LayerFactoryOptions {
  bias?: boolean;
}

/** y = x W^T + b over the last dimension; weight (out, in), initialised as PyTorch's. */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, options?: LinearOptions) {
    super();
    const o = readOptions('Linear', options, ['bias', ...FACTORY_KEYS]);
    this.inFeatures = checkInt('Linear', 'inFeatures', inFeatures, { min: 0 });
    this.outFeatures = checkInt('Linear', 'outFeatures', outFeatures, { min: 0 });
    const f = factory(o);
    const hasBias = o.bool('bias', true);
    this.registerParameter('weight', empty([outFeatures, inFeatures], f));
    this.registerParameter('bias', hasBias ? empty([outFeatures], f) : null);
    this.resetParameters();
  }

  get weight(): Tensor {
    return this.getParameter('weight')!;
  }

  get bias(): Tensor | null {
    return this.getParameter('bias') ?? null;
  }

  /** kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(in), 1/sqrt(in)) for the bias. */
  resetParameters(): void {
    init.kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    const bias = this.bias;
    if (bias !== null) {
      const [fanIn] = init.calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform_(bias, { a: -bound, b: bound });
    }
  }

  forward(input: Tensor): Tensor {
    return linear(input, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${py(this.bias !== null)}`;
  }
}

/** Returns its input unchanged: the same tensor handle, as PyTorch returns the same object. */
export class Identity extends Module {
  /** Arguments are accepted and ignored, as PyTorch's Identity(*args, **kwargs). */
  constructor(..._args: unknown[]) {
    super();
  }

  forward<T>(input: T): T {
    return input;
  }
}

/** Flattens dims startDim..endDim (defaults 1..-1) into one: (N, C, H, W) -> (N, C*H*W). */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;

  constructor(options?: { startDim?: number; endDim?: number }) {
    super();
    const o = readOptions('Flatten', options, ['startDim', 'endDim']);
    this.startDim = o.int('startDim', 1, {});
    this.endDim = o.int('endDim', -1, {});
  }

  forward(input: Tensor): Tensor {
    return flatten(input, this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
