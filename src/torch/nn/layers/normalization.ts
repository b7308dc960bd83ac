// BatchNorm2d and GroupNorm with PyTorch's parameters, buffers and update rules: BatchNorm
// counts num_batches_tracked in training and, with momentum null, averages the batches
// cumulatively (factor 1 / num_batches_tracked), exactly as torch.nn.modules.batchnorm does.
import type { Tensor } from '../../tensor.js';
import { empty, ones, tensor, zeros } from '../../ops/creation.js';
import { add_ } from '../../ops/inplace.js';
import { noGrad } from '../../autograd.js';
import { batchNorm, groupNorm } from '../functional/norm.js';
import { Module } from '../module.js';
import * as init from '../init.js';
import { checkInt, readOptions } from '../../../validate.js';
import { factory, py, pyFloat, FACTORY_KEYS, type LayerFactoryOptions } from './common.js';

/**
 * The state PyTorch's _NormBase registers for BatchNorm and InstanceNorm: weight and bias with
 * `affine` (uninitialised: the layer sets them), running mean, variance and batch count with
 * `track` (zeros, ones, 0).
 */
export function registerNormState(m: Module, numFeatures: number, affine: boolean, track: boolean, f: ReturnType<typeof factory>): void {
  m.registerParameter('weight', affine ? empty([numFeatures], f) : null);
  m.registerParameter('bias', affine ? empty([numFeatures], f) : null);
  m.registerBuffer('running_mean', track ? zeros([numFeatures], f) : null);
  m.registerBuffer('running_var', track ? ones([numFeatures], f) : null);
  m.registerBuffer('num_batches_tracked', track ? tensor(0, { dtype: 'int64', device: f.device }) : null);
}

export interface BatchNorm2dOptions extends LayerFactoryOptions {
  eps?: number;
  /** Weight of the new batch in the running averages; null averages all batches so far equally. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/** Batch normalisation over (N, C, H, W) per channel, with running statistics for eval mode. */
export class BatchNorm2d extends Module {
  readonly numFeatures: number;
  eps: number;
  momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;

  constructor(numFeatures: number, options?: BatchNorm2dOptions) {
    super();
    const name = 'BatchNorm2d';
    const o = readOptions(name, options, ['eps', 'momentum', 'affine', 'trackRunningStats', ...FACTORY_KEYS]);
    this.numFeatures = checkInt(name, 'numFeatures', numFeatures, { min: 1 });
    this.eps = o.number('eps', 1e-5);
    this.momentum = o.get('momentum') === null ? null : o.number('momentum', 0.1);
    this.affine = o.bool('affine', true);
    this.trackRunningStats = o.bool('trackRunningStats', true);
    registerNormState(this, numFeatures, this.affine, this.trackRunningStats, factory(o));
    this.resetParameters();
  }

  get weight(): Tensor | null {
    return this.getParameter('weight') ?? null;
  }

  get bias(): Tensor | null {
    return this.getParameter('bias') ?? null;
  }

  get runningMean(): Tensor | null {
    return this.getBuffer('running_mean') ?? null;
  }

  get runningVar(): Tensor | null {
    return this.getBuffer('running_var') ?? null;
  }

  /** int64 0-d count of training batches seen (what momentum null divides by). */
  get numBatchesTracked(): Tensor | null {
    return this.getBuffer('num_batches_tracked') ?? null;
  }

  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    noGrad(() => {
      this.runningMean?.zero_();
      this.runningVar?.fill_(1);
      this.numBatchesTracked?.zero_();
    });
  }

  resetParameters(): void {
    this.resetRunningStats();
    if (this.affine) {
      init.ones_(this.weight!);
      init.zeros_(this.bias!);
    }
  }

  protected override optionalStateKeys(): readonly string[] {
    return ['num_batches_tracked'];
  }

  forward(input: Tensor): Tensor {
    if (input.ndim !== 4)
      throw new RangeError(`BatchNorm2d: expected 4-D input (N, C, H, W), got ${input.ndim}-D input of shape [${input.shape.join(', ')}]`);
    let factor = this.momentum ?? 0;
    const nbt = this.numBatchesTracked;
    if (this.training && this.trackRunningStats && nbt !== null) {
      add_(nbt, 1);
      factor = this.momentum === null ? 1 / nbt.item() : this.momentum;
    }
    const mean = this.runningMean;
    const variance = this.runningVar;
    const bnTraining = this.training || (mean === null && variance === null);
    if (this.training) {
      const s = input.shape;
      if (s[0]! * s[2]! * s[3]! === 1) {
        throw new RangeError(`BatchNorm2d: expected more than 1 value per channel when training, got input of shape [${s.join(', ')}]`);
      }
    }
    const useBuffers = !this.training || this.trackRunningStats;
    return batchNorm(input, useBuffers ? mean : null, useBuffers ? variance : null, {
      weight: this.weight,
      bias: this.bias,
      training: bnTraining,
      momentum: factor,
      eps: this.eps,
    });
  }

  override extraRepr(): string {
    return (
      `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${this.momentum === null ? 'None' : pyFloat(this.momentum)}, ` +
      `affine=${py(this.affine)}, track_running_stats=${py(this.trackRunningStats)}`
    );
  }
}

export interface GroupNormOptions extends LayerFactoryOptions {
  eps?: number;
  affine?: boolean;
}

/** Group normalisation: channels split into numGroups groups, each normalised per sample. */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  eps: number;
  readonly affine: boolean;

  constructor(numGroups: number, numChannels: number, options?: GroupNormOptions) {
    super();
    const name = 'GroupNorm';
    const o = readOptions(name, options, ['eps', 'affine', ...FACTORY_KEYS]);
    this.numGroups = checkInt(name, 'numGroups', numGroups, { min: 1 });
    this.numChannels = checkInt(name, 'numChannels', numChannels, { min: 1 });
    if (numChannels % numGroups !== 0) {
      throw new RangeError(`${name}: numChannels must be divisible by numGroups (numChannels=${numChannels}, numGroups=${numGroups})`);
    }
    this.eps = o.number('eps', 1e-5);
    this.affine = o.bool('affine', true);
    const f = factory(o);
    this.registerParameter('weight', this.affine ? empty([numChannels], f) : null);
    this.registerParameter('bias', this.affine ? empty([numChannels], f) : null);
    this.resetParameters();
  }

  get weight(): Tensor | null {
    return this.getParameter('weight') ?? null;
  }

  get bias(): Tensor | null {
    return this.getParameter('bias') ?? null;
  }

  resetParameters(): void {
    if (this.affine) {
      init.ones_(this.weight!);
      init.zeros_(this.bias!);
    }
  }

  forward(input: Tensor): Tensor {
    if (input.ndim < 2 || input.shape[1] !== this.numChannels) {
      throw new RangeError(
        `GroupNorm: expected input (N, ${this.numChannels}, ...) with ${this.numChannels} channels, got shape [${input.shape.join(', ')}]`,
      );
    }
    return groupNorm(input, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${py(this.affine)}`;
  }
}
