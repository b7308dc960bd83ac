// Exponential moving average of weights (timm's ModelEmaV2/V3): shadow copies updated after each
// optimizer step, evaluated by copying them into the model (copyTo). Non-floating tensors
// (num_batches_tracked) are copied, not averaged.
import '../methods.js';
import type { Tensor } from '../tensor.js';
import { tidy, keep, dispose } from '../scope.js';
import { noGrad } from '../autograd.js';
import { clone } from '../ops/shape.js';
import { isFloatingDType } from '../dtype.js';
import { invalidParameterError, is, readOptions } from '../../validate.js';
import { checkMatching, tensorList } from './swa.js';

export interface ModelEmaOptions {
  /** The decay per update (default 0.9999): shadow = decay * shadow + (1 - decay) * value. */
  decay?: number;
  /**
   * Warm-up as timm's ModelEmaV3 `use_warmup`: update t (1, 2, ...) uses
   * min(decay, 1 - (1 + t / warmupGamma) ** -warmupPower), at least minDecay, so early
   * updates follow the weights closely instead of averaging in the random init.
   */
  warmup?: boolean;
  warmupGamma?: number;
  /** 2/3 suits long runs, 3/4 short ones (timm's advice). */
  warmupPower?: number;
  minDecay?: number;
}

export class ModelEma {
  /** The averaged copies, owned by this object. */
  readonly shadow: Tensor[];
  readonly decay: number;
  readonly warmup: boolean;
  readonly warmupGamma: number;
  readonly warmupPower: number;
  readonly minDecay: number;
  /** How many updates ran (the warm-up's t). */
  numUpdates = 0;

  /** Starts the shadow as copies of `params` (parameters and, optionally, buffers, in a fixed order). */
  constructor(params: Iterable<Tensor>, options?: ModelEmaOptions) {
    const name = 'ModelEma';
    const o = readOptions(name, options, ['decay', 'warmup', 'warmupGamma', 'warmupPower', 'minDecay']);
    const positive = { min: 0, exclusive: 'min' } as const;
    this.decay = o.probability('decay', 0.9999);
    this.warmup = o.bool('warmup', false);
    this.warmupGamma = o.number('warmupGamma', 1, positive);
    this.warmupPower = o.number('warmupPower', 2 / 3, positive);
    this.minDecay = o.probability('minDecay', 0);
    const list = tensorList(name, params);
    this.shadow = keep(noGrad(() => list.map((p) => clone(p))));
  }

  /** The decay that update number `t` (1-based) uses. */
  decayAt(t: number): number {
    if (!this.warmup) return this.decay;
    const d = 1 - (1 + t / this.warmupGamma) ** -this.warmupPower;
    return Math.max(Math.min(d, this.decay), this.minDecay);
  }

  /** Folds the current `params` (same order and shapes as at construction) into the shadow. */
  update(params: Iterable<Tensor>): void {
    const list = tensorList('ModelEma.update', params);
    checkMatching('ModelEma.update', this.shadow, list);
    const d = this.decayAt(this.numUpdates + 1);
    noGrad(() =>
      tidy(() => {
        this.shadow.forEach((e, i) => {
          if (isFloatingDType(e.dtype)) e.lerp_(list[i]!, 1 - d);
          else e.copy_(list[i]!);
        });
      }),
    );
    this.numUpdates += 1;
  }

  /** Resets the shadow to the current `params` (timm's set()). */
  set(params: Iterable<Tensor>): void {
    const list = tensorList('ModelEma.set', params);
    checkMatching('ModelEma.set', this.shadow, list);
    noGrad(() => this.shadow.forEach((e, i) => e.copy_(list[i]!)));
  }

  /** Writes the averaged values into `params` (to evaluate or save the EMA weights). */
  copyTo(params: Iterable<Tensor>): void {
    const list = tensorList('ModelEma.copyTo', params);
    checkMatching('ModelEma.copyTo', this.shadow, list);
    noGrad(() => list.forEach((p, i) => p.copy_(this.shadow[i]!)));
  }

  /** `{ num_updates, shadow }`; the tensors are this object's own (do not dispose them). */
  stateDict(): { num_updates: number; shadow: Tensor[] } {
    return { num_updates: this.numUpdates, shadow: [...this.shadow] };
  }

  loadStateDict(sd: { num_updates: number; shadow: Tensor[] }): void {
    if (!is.object(sd) || typeof sd.num_updates !== 'number') {
      throw invalidParameterError('ModelEma.loadStateDict', 'the state dict', '{ num_updates, shadow }', sd);
    }
    this.set(sd.shadow);
    this.numUpdates = sd.num_updates;
  }

  dispose(): void {
    dispose(this.shadow);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
