// The normalisations whose statistics come from each sample alone, with PyTorch's parameters,
// buffers and defaults: InstanceNorm2d (per image and channel; no affine parameters and no
// running statistics unless asked, as torch.nn.InstanceNorm2d) and LayerNorm (over the last
// dimensions, with an elementwise affine by default).
import type { Tensor } from '../../tensor.js';
import { ones, zeros } from '../../ops/creation.js';
import { instanceNorm, layerNorm } from '../functional/norm.js';
import { Module } from '../module.js';
import * as init from '../init.js';
import { checkInt, checkIntList, readOptions } from '../../../validate.js';
import { factory, py, pyFloat, FACTORY_KEYS, type LayerFactoryOptions } from './common.js';
import { registerNormState } from './normalization.js';

export interface InstanceNorm2dOptions extends LayerFactoryOptions {
  eps?: number;
  /** Weight of the new statistics in the running averages (with trackRunningStats). */
  momentum?: number;
  /** Learnable per-channel weight and bias (default false). */
  affine?: boolean;
  /** Keep running statistics and use them in eval mode (default false). */
  trackRunningStats?: boolean;
}

/** Instance normalisation over (N, C, H, W): each image's channels normalised on their own. */
export class InstanceNorm2d extends Module {
  readonly numFeatures: number;
  eps: number;
  momentum: number;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(numFeatures: number, options?: InstanceNorm2dOptions) {
    super();
    const name = 'InstanceNorm2d';
    const o = readOptions(name, options, ['eps', 'momentum', 'affine', 'trackRunningStats', ...FACTORY_KEYS]);
    this.numFeatures = checkInt(name, 'numFeatures', numFeatures, { min: 1 });
    this.eps = o.number('eps', 1e-5, { min: 0 });
    this.momentum = o.number('momentum', 0.1, { min: 0, max: 1 });
    this.affine = o.bool('affine', false);
    this.trackRunningStats = o.bool('trackRunningStats', false);
    registerNormState(this, numFeatures, this.affine, this.trackRunningStats, factory(o));
    if (this.affine) {
      init.ones_(this.getParameter('weight')!);
      init.zeros_(this.getParameter('bias')!);
    }
  }

  forward(input: Tensor): Tensor {
    if (input.ndim !== 4 || input.shape[1] !== this.numFeatures) {
      throw new RangeError(`InstanceNorm2d: expected 4-D input (N, ${this.numFeatures}, H, W), got shape [${input.shape.join(', ')}]`);
    }
    const runningMean = this.getBuffer('running_mean') ?? null;
    return instanceNorm(input, {
      weight: this.getParameter('weight') ?? null,
      bias: this.getParameter('bias') ?? null,
      runningMean,
      runningVar: this.getBuffer('running_var') ?? null,
      useInputStats: this.training || runningMean === null,
      momentum: this.momentum,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${pyFloat(this.momentum)}, affine=${py(this.affine)}, track_running_stats=${py(this.trackRunningStats)}`;
  }
}

export interface LayerNormOptions extends LayerFactoryOptions {
  eps?: number;
  /** Learnable weight and bias of normalizedShape (default true). */
  elementwiseAffine?: boolean;
}

/** Layer normalisation over the last `normalizedShape` dimensions of each sample. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  eps: number;
  readonly elementwiseAffine: boolean;

  constructor(normalizedShape: number | readonly number[], options?: LayerNormOptions) {
    super();
    const name = 'LayerNorm';
    const o = readOptions(name, options, ['eps', 'elementwiseAffine', ...FACTORY_KEYS]);
    this.normalizedShape =
      typeof normalizedShape === 'number'
        ? [checkInt(name, 'normalizedShape', normalizedShape, { min: 1 })]
        : checkIntList(name, 'normalizedShape', normalizedShape, { min: 1 });
    this.eps = o.number('eps', 1e-5, { min: 0 });
    this.elementwiseAffine = o.bool('elementwiseAffine', true);
    const f = factory(o);
    this.registerParameter('weight', this.elementwiseAffine ? ones(this.normalizedShape, f) : null);
    this.registerParameter('bias', this.elementwiseAffine ? zeros(this.normalizedShape, f) : null);
  }

  forward(input: Tensor): Tensor {
    return layerNorm(input, this.normalizedShape, {
      weight: this.getParameter('weight') ?? null,
      bias: this.getParameter('bias') ?? null,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return `${py(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${py(this.elementwiseAffine)}`;
  }
}
