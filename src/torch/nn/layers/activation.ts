// Activation layers. With `inplace: true` the input is overwritten and returned (the same
// handle, as PyTorch returns the same object), which saves a buffer per activation.
import type { Tensor } from '../../tensor.js';
import { readOptions } from '../../../validate.js';
import { tid } from '../../ops/registry.js';
import { relu, relu6, leakyRelu, sigmoid, tanh, gelu, silu, hardswish, softmax } from '../../ops/math.js';
import { relu_, relu6_, leakyRelu_, silu_, hardswish_ } from '../../ops/inplace.js';
import { Module } from '../module.js';
import { pyFloat } from './common.js';

function inplaceOption(layer: string, options: { inplace?: boolean } | undefined): boolean {
  return readOptions(layer, options, ['inplace']).bool('inplace', false);
}

/** max(0, x). */
export class ReLU extends Module {
  readonly inplace: boolean;
  constructor(options?: { inplace?: boolean }) {
    super();
    this.inplace = inplaceOption('ReLU', options);
  }

  forward(input: Tensor): Tensor {
    return this.inplace ? relu_(input) : relu(input);
  }

  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}

/** min(max(0, x), 6). */
export class ReLU6 extends Module {
  readonly inplace: boolean;
  constructor(options?: { inplace?: boolean }) {
    super();
    this.inplace = inplaceOption('ReLU6', options);
  }

  forward(input: Tensor): Tensor {
    return this.inplace ? relu6_(input) : relu6(input);
  }

  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}

/** x for x >= 0, negativeSlope * x otherwise (default slope 0.01). */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  readonly inplace: boolean;
  constructor(options?: { negativeSlope?: number; inplace?: boolean }) {
    super();
    const o = readOptions('LeakyReLU', options, ['negativeSlope', 'inplace']);
    this.negativeSlope = o.number('negativeSlope', 1e-2);
    this.inplace = o.bool('inplace', false);
  }

  forward(input: Tensor): Tensor {
    return this.inplace ? leakyRelu_(input, this.negativeSlope) : leakyRelu(input, this.negativeSlope);
  }

  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}${this.inplace ? ', inplace=True' : ''}`;
  }
}

/** 1 / (1 + exp(-x)). */
export class Sigmoid extends Module {
  forward(input: Tensor): Tensor {
    return sigmoid(input);
  }
}

/** tanh(x). */
export class Tanh extends Module {
  forward(input: Tensor): Tensor {
    return tanh(input);
  }
}

const GELU_APPROXIMATIONS = ['none', 'tanh'] as const;

/** x * Phi(x), exactly (approximate 'none') or by the tanh formula. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(options?: { approximate?: 'none' | 'tanh' }) {
    super();
    this.approximate = readOptions('GELU', options, ['approximate']).choice('approximate', GELU_APPROXIMATIONS, 'none');
  }

  forward(input: Tensor): Tensor {
    return gelu(input, { approximate: this.approximate });
  }

  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** x * sigmoid(x) (swish). */
export class SiLU extends Module {
  readonly inplace: boolean;
  constructor(options?: { inplace?: boolean }) {
    super();
    this.inplace = inplaceOption('SiLU', options);
  }

  forward(input: Tensor): Tensor {
    return this.inplace ? silu_(input) : silu(input);
  }

  override extraRepr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}

/** x * relu6(x + 3) / 6 (MobileNetV3). PyTorch prints no arguments for it. */
export class Hardswish extends Module {
  readonly inplace: boolean;
  constructor(options?: { inplace?: boolean }) {
    super();
    this.inplace = inplaceOption('Hardswish', options);
  }

  forward(input: Tensor): Tensor {
    return this.inplace ? hardswish_(input) : hardswish(input);
  }
}

/** Softmax over the channels of (N, C, H, W) or (C, H, W) input, at every pixel. */
export class Softmax2d extends Module {
  forward(input: Tensor): Tensor {
    tid(input, 'Softmax2d', 'input');
    if (input.ndim !== 3 && input.ndim !== 4) {
      throw new RangeError(`Softmax2d: requires a 3-D or 4-D input, got ${input.ndim}-D input of shape [${input.shape.join(', ')}]`);
    }
    return softmax(input, -3);
  }
}
