// Stochastic Weight Averaging, after PyTorch 1.13's torch.optim.swa_utils: an equal-weight
// running average of parameter tensors (AveragedModel), the SWALR schedule, and updateBn to
// recompute batch-norm statistics for the averaged weights.
//
// The usual flow: train; from some epoch on, `swa.updateParameters(params)` each epoch and
// step SWALR instead of the main scheduler; at the end `swa.copyTo(params)`, then
// `updateBn(trainLoader, model)` (averaged weights need their own BN statistics).
import '../methods.js';
import { Tensor } from '../tensor.js';
import { tidy, keep, dispose } from '../scope.js';
import { noGrad } from '../autograd.js';
import { clone } from '../ops/shape.js';
import { isFloatingDType } from '../dtype.js';
import { invalidParameterError, is, readOptions } from '../../validate.js';
import type { Optimizer } from './optimizer.js';
import { LRScheduler, perGroup, schedulerOptions } from './lr-scheduler/base.js';

/** Combines the average so far with the current value; `numAveraged` counts the values in it. */
export type AvgFn = (averaged: Tensor, current: Tensor, numAveraged: number) => Tensor;

export function tensorList(where: string, params: Tensor | Iterable<Tensor>): Tensor[] {
  const list = params instanceof Tensor ? [params] : params != null && typeof params[Symbol.iterator] === 'function' ? [...params] : null;
  if (list === null) throw invalidParameterError(where, 'params', 'an array of Tensors', params);
  list.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw invalidParameterError(where, `params[${i}]`, 'a Tensor', t);
    if (t.isDisposed) throw new Error(`${where}: params[${i}] is a disposed Tensor`);
  });
  return list;
}

export function checkMatching(where: string, mine: Tensor[], given: Tensor[]): void {
  if (given.length !== mine.length) throw new RangeError(`${where}: expected ${mine.length} tensors, got ${given.length}`);
  given.forEach((t, i) => {
    const a = mine[i]!.shape;
    if (t.shape.length !== a.length || t.shape.some((s, d) => s !== a[d])) {
      throw new RangeError(`${where}: tensor ${i} has shape [${t.shape.join(', ')}], expected [${a.join(', ')}]`);
    }
  });
}

/**
 * A running average of tensors (parameters, optionally buffers): PyTorch's AveragedModel on a
 * list instead of a module. Non-floating tensors (num_batches_tracked) are copied, not averaged.
 */
export class AveragedModel {
  /** The averages, owned by this object (disposed by dispose()). */
  readonly averaged: Tensor[];
  nAveraged = 0;
  private readonly avgFn: AvgFn;

  /** Starts from copies of `params`; the first updateParameters() overwrites them. */
  constructor(params: Iterable<Tensor>, options?: { avgFn?: AvgFn }) {
    const o = readOptions('AveragedModel', options, ['avgFn']);
    const list = tensorList('AveragedModel', params);
    this.avgFn = o.custom<AvgFn>('avgFn', (avg, cur, n) => avg.add(cur.sub(avg).div(n + 1)), is.fn, 'a function');
    this.averaged = keep(noGrad(() => list.map((p) => clone(p))));
  }

  /** Folds the current values of `params` (same order and shapes as at construction) into the average. */
  updateParameters(params: Iterable<Tensor>): void {
    const list = tensorList('AveragedModel.updateParameters', params);
    checkMatching('AveragedModel.updateParameters', this.averaged, list);
    noGrad(() =>
      tidy(() => {
        this.averaged.forEach((avg, i) => {
          const cur = list[i]!;
          if (this.nAveraged === 0 || !isFloatingDType(avg.dtype)) avg.copy_(cur);
          else avg.copy_(this.avgFn(avg, cur, this.nAveraged));
        });
      }),
    );
    this.nAveraged += 1;
  }

  /** Writes the averages into `params` (e.g. the model's parameters before updateBn and evaluation). */
  copyTo(params: Iterable<Tensor>): void {
    const list = tensorList('AveragedModel.copyTo', params);
    checkMatching('AveragedModel.copyTo', this.averaged, list);
    noGrad(() => list.forEach((p, i) => p.copy_(this.averaged[i]!)));
  }

  /** `{ n_averaged, averaged }`; the tensors are this object's own (do not dispose them). */
  stateDict(): { n_averaged: number; averaged: Tensor[] } {
    return { n_averaged: this.nAveraged, averaged: [...this.averaged] };
  }

  loadStateDict(sd: { n_averaged: number; averaged: Tensor[] }): void {
    if (!is.object(sd) || typeof sd.n_averaged !== 'number') {
      throw invalidParameterError('AveragedModel.loadStateDict', 'the state dict', '{ n_averaged, averaged }', sd);
    }
    const list = tensorList('AveragedModel.loadStateDict', sd.averaged);
    checkMatching('AveragedModel.loadStateDict', this.averaged, list);
    noGrad(() => this.averaged.forEach((a, i) => a.copy_(list[i]!)));
    this.nAveraged = sd.n_averaged;
  }

  dispose(): void {
    dispose(this.averaged);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

const ANNEAL_STRATEGIES = ['cos', 'linear'] as const;

/**
 * Anneals each group's lr to `swaLr` over `annealEpochs` (default 10) steps, by cosine
 * (default) or linearly, then holds it. As PyTorch's SWALR.
 */
export class SWALR extends LRScheduler {
  annealEpochs: number;
  annealStrategy: 'cos' | 'linear';
  constructor(
    optimizer: Optimizer<any>,
    options: { swaLr: number | number[]; annealEpochs?: number; annealStrategy?: 'cos' | 'linear'; lastEpoch?: number },
  ) {
    const o = schedulerOptions('SWALR', options, ['swaLr', 'annealEpochs', 'annealStrategy', 'lastEpoch'], true);
    super('SWALR', optimizer, o.get('lastEpoch') as number | undefined);
    const swaLrs = perGroup('SWALR', 'swaLr', optimizer, o.get('swaLr'));
    optimizer.paramGroups.forEach((g, i) => {
      g.swaLr = swaLrs[i];
    });
    this.annealStrategy = o.choice('annealStrategy', ANNEAL_STRATEGIES, 'cos');
    this.annealEpochs = o.int('annealEpochs', 10, { min: 0 });
    this._initialStep();
  }

  private anneal(t: number): number {
    return this.annealStrategy === 'linear' ? t : (1 - Math.cos(Math.PI * t)) / 2;
  }

  protected override getLr(): number[] {
    let step = this._stepCount - 1;
    if (this.annealEpochs === 0) step = Math.max(1, step);
    const prevT = Math.max(0, Math.min(1, (step - 1) / Math.max(1, this.annealEpochs)));
    const prevAlpha = this.anneal(prevT);
    const t = Math.max(0, Math.min(1, step / Math.max(1, this.annealEpochs)));
    const alpha = this.anneal(t);
    return this.optimizer.paramGroups.map((g) => {
      const swaLr = g.swaLr as number;
      // The lr this schedule started from, recovered from the current one.
      const prev = prevAlpha === 1 ? swaLr : (g.lr - prevAlpha * swaLr) / (1 - prevAlpha);
      return swaLr * alpha + prev * (1 - alpha);
    });
  }

  protected override stateFields(): [string, string][] {
    return [['annealEpochs', 'anneal_epochs'], ...super.stateFields()];
  }
}

/**
 * What updateBn needs of a batch-norm layer (the BatchNorm modules provide it). When
 * `momentum` is null the layer must average cumulatively, as PyTorch's _BatchNorm does:
 * numBatchesTracked += 1, then update the running stats with factor 1 / numBatchesTracked.
 */
export interface BatchNormStats {
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  momentum?: number | null;
  numBatchesTracked?: Tensor | null;
  /** Zeroes the mean and count and fills the variance with ones; done in place when absent. */
  resetRunningStats?(): void;
}

/** What updateBn needs of a model: its modules (BN layers are found by their running stats). */
export interface BnUpdatable {
  modules(): Iterable<object>;
  /** Restored at the end when present. */
  training?: boolean;
  train(mode?: boolean): unknown;
  forward(x: Tensor): unknown;
}

function isBatchNorm(m: object): m is BatchNormStats & { runningMean: Tensor; runningVar: Tensor } {
  const b = m as BatchNormStats;
  return b.runningMean instanceof Tensor && b.runningVar instanceof Tensor;
}

/**
 * Recomputes the running statistics of every batch-norm layer of `model` with one pass over
 * `loader` in training mode, as the equal average over batches (PyTorch's update_bn). Batches
 * may be tensors or arrays whose first element is the input; the caller keeps owning them.
 */
export function updateBn(loader: Iterable<Tensor | readonly unknown[]>, model: BnUpdatable): void {
  const run = beginBnUpdate('updateBn', model);
  if (run === null) return;
  try {
    for (const batch of loader) run.feed(batch);
  } finally {
    run.finish();
  }
}

/** updateBn over an async iterable (a DataLoader); batches with an `image` field feed that. */
export async function updateBnAsync(
  loader: AsyncIterable<unknown>,
  model: BnUpdatable,
  options: { dispose?: boolean } = {},
): Promise<void> {
  const run = beginBnUpdate('updateBnAsync', model);
  if (run === null) return;
  try {
    for await (const batch of loader) {
      try {
        run.feed(batch);
      } finally {
        if (options.dispose) disposeBatch(batch);
      }
    }
  } finally {
    run.finish();
  }
}

function disposeBatch(batch: unknown): void {
  if (batch instanceof Tensor) batch.dispose();
  else if (batch !== null && typeof batch === 'object')
    for (const v of Array.isArray(batch) ? batch : Object.values(batch)) if (v instanceof Tensor) v.dispose();
}

/** Resets every BN layer to cumulative averaging; feed() runs a batch, finish() restores momenta and mode. */
function beginBnUpdate(where: string, model: BnUpdatable): { feed(batch: unknown): void; finish(): void } | null {
  if (
    model === null ||
    typeof model !== 'object' ||
    typeof model.modules !== 'function' ||
    typeof model.train !== 'function' ||
    typeof model.forward !== 'function'
  ) {
    throw invalidParameterError(where, 'model', 'an object with modules(), train() and forward()', model);
  }
  const momenta = new Map<BatchNormStats, number | null | undefined>();
  for (const m of model.modules()) {
    if (m === null || typeof m !== 'object' || !isBatchNorm(m)) continue;
    noGrad(() => {
      if (typeof m.resetRunningStats === 'function') {
        m.resetRunningStats();
      } else {
        m.runningMean.zero_();
        m.runningVar.fill_(1);
        m.numBatchesTracked?.zero_();
      }
    });
    momenta.set(m, m.momentum);
  }
  if (momenta.size === 0) return null;
  const wasTraining = model.training;
  model.train(true);
  for (const m of momenta.keys()) {
    m.momentum = null;
    noGrad(() => m.numBatchesTracked?.zero_());
  }
  return {
    feed(batch: unknown) {
      const input =
        batch instanceof Tensor
          ? batch
          : Array.isArray(batch)
            ? batch[0]
            : batch !== null && typeof batch === 'object'
              ? (batch as { image?: unknown }).image
              : undefined;
      if (!(input instanceof Tensor))
        throw invalidParameterError(where, 'each batch', 'a Tensor, an array starting with one, or { image }', batch);
      noGrad(() =>
        tidy('updateBn', () => {
          model.forward(input);
        }),
      );
    },
    finish() {
      for (const [m, momentum] of momenta) m.momentum = momentum;
      if (wasTraining !== undefined) model.train(wasTraining);
    },
  };
}
