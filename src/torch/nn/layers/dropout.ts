// Dropout layers: random zeroing (scaled by 1 / (1 - p)) in training, identity in eval. The
// mask comes from libtorch's generator through the same kernels as PyTorch's, so a seed
// reproduces PyTorch's mask.
import { native } from '../../native.js';
import type { Tensor } from '../../tensor.js';
import { aten, tid } from '../../ops/registry.js';
import { dropout, dropout2d } from '../functional/dropout.js';
import { Module } from '../module.js';
import { checkBoolOption, describe, opts, pyFloat } from './common.js';

const DROPOUT_ = aten('dropout_');
const FEATURE_DROPOUT_ = aten('feature_dropout_');

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
    const o = opts(name, options, ['p', 'inplace']);
    const p = o.p ?? 0.5;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`${name}: dropout probability p must be between 0 and 1, got ${describe(p)}`);
    this.p = p;
    this.inplace = checkBoolOption(name, 'inplace', o.inplace, false);
  }

  protected applyInplace(handle: number, input: Tensor): Tensor {
    native.callVoid(handle, tid(input, this.constructor.name, 'input'), this.p, this.training);
    return input;
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
    if (this.inplace) return this.applyInplace(DROPOUT_, input);
    return dropout(input, { p: this.p, training: this.training });
  }
}

/** Zeroes whole channels of (N, C, H, W) input with probability p during training. */
export class Dropout2d extends DropoutNd {
  constructor(options?: DropoutOptions) {
    super('Dropout2d', options);
  }

  forward(input: Tensor): Tensor {
    if (!this.inplace) return dropout2d(input, { p: this.p, training: this.training });
    tid(input, 'Dropout2d', 'input');
    const s = input.shape;
    if (s.length !== 4 && s.length !== 3) throw new RangeError(`Dropout2d: input must be 4-D or 3-D, got shape [${s.join(', ')}]`);
    return this.applyInplace(FEATURE_DROPOUT_, input);
  }
}
