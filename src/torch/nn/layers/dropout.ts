// Dropout layers: random zeroing (scaled by 1 / (1 - p)) in training, identity in eval. The
// mask comes from libtorch's generator through the same kernels as PyTorch's, so a seed
// reproduces PyTorch's mask.
import type { Tensor } from '../../tensor.js';
import { readOptions } from '../../../validate.js';
import { dropout, dropout2d } from '../functional/dropout.js';
import { Module } from '../module.js';
import { pyFloat } from './common.js';

export interface DropoutOptions {
  /** Probability of zeroing an element (a channel for Dropout2d); default 0.5. */
  p?: number;
  inplace?: boolean;
}

abstract class DropoutNd extends Module {
  readonly p: number;
  readonly inplace: boolean;

  constructor(name: string, options: DropoutOptions | undefined) {
    super();
    const o = readOptions(name, options, ['p', 'inplace']);
    this.p = o.probability('p', 0.5);
    this.inplace = o.bool('inplace', false);
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${this.inplace ? 'True' : 'False'}`;
  }
}

/** Zeroes each element with probability p during training. */
export class Dropout extends DropoutNd {
  constructor(options?: DropoutOptions) {
    super('Dropout', options);
  }

  forward(input: Tensor): Tensor {
    return dropout(input, { p: this.p, training: this.training, inplace: this.inplace });
  }
}

/** Zeroes whole channels of (N, C, H, W) input with probability p during training. */
export class Dropout2d extends DropoutNd {
  constructor(options?: DropoutOptions) {
    super('Dropout2d', options);
  }

  forward(input: Tensor): Tensor {
    return dropout2d(input, { p: this.p, training: this.training, inplace: this.inplace });
  }
}
