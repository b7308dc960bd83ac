// LambdaLR and MultiplicativeLR: the lr from the user's function of the epoch, one function for
// all param groups or one per group. As PyTorch's, the state dict holds `lr_lambdas` with null
// for each function (plain functions are not state); the functions come from the constructor.
import { invalidParameterError, show } from '../../../validate.js';
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, schedulerOptions, type SchedulerOptions, type SchedulerStateDict } from './base.js';

/** A factor as a function of the epoch (an integer from 0). */
export type LrLambda = (epoch: number) => number;

function lambdas(name: string, optimizer: Optimizer<any>, v: unknown): LrLambda[] {
  const n = optimizer.paramGroups.length;
  const expected = `a function of the epoch or an array of ${n} of them (one per param group)`;
  if (Array.isArray(v)) {
    if (v.length !== n) throw invalidParameterError(name, 'lrLambda', expected, v, RangeError);
    v.forEach((f, i) => {
      if (typeof f !== 'function') throw invalidParameterError(name, `lrLambda[${i}]`, 'a function of the epoch', f);
    });
    return [...(v as LrLambda[])];
  }
  if (typeof v !== 'function') throw invalidParameterError(name, 'lrLambda', expected, v);
  return new Array<LrLambda>(n).fill(v as LrLambda);
}

function factor(name: string, f: LrLambda, i: number, epoch: number): number {
  const x = f(epoch);
  if (typeof x !== 'number' || Number.isNaN(x))
    throw new TypeError(`${name}: lrLambda of param group ${i} must return a number, got ${show(x)} at epoch ${epoch}`);
  return x;
}

abstract class LambdaBase extends LRScheduler {
  lrLambdas: LrLambda[];
  protected constructor(name: string, optimizer: Optimizer<any>, options: { lrLambda: LrLambda | LrLambda[] } & SchedulerOptions) {
    const o = schedulerOptions(name, options, ['lrLambda', 'lastEpoch'], true);
    super(name, optimizer, o.get('lastEpoch') as number | undefined);
    this.lrLambdas = lambdas(name, optimizer, o.get('lrLambda'));
  }
  protected f(i: number): number {
    return factor(this.name, this.lrLambdas[i]!, i, this.lastEpoch);
  }
  /** PyTorch's keys plus `lr_lambdas`: null per group (functions are not saved). */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), lr_lambdas: this.lrLambdas.map(() => null) };
  }
  /** `lr_lambdas` entries that are objects are assigned onto the functions (PyTorch updates a callable object's __dict__). */
  override loadStateDict(sd: SchedulerStateDict): void {
    super.loadStateDict(sd);
    const saved = sd.lr_lambdas;
    if (Array.isArray(saved)) {
      saved.forEach((v, i) => {
        if (v !== null && typeof v === 'object' && this.lrLambdas[i]) Object.assign(this.lrLambdas[i]!, v);
      });
    }
  }
}

/** lr = initial lr * lrLambda(epoch), per group. */
export class LambdaLR extends LambdaBase {
  constructor(optimizer: Optimizer<any>, options: { lrLambda: LrLambda | LrLambda[] } & SchedulerOptions) {
    super('LambdaLR', optimizer, options);
    this._initialStep();
  }
  protected override getLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.f(i));
  }
}

/** lr = previous lr * lrLambda(epoch) from epoch 1, per group. */
export class MultiplicativeLR extends LambdaBase {
  constructor(optimizer: Optimizer<any>, options: { lrLambda: LrLambda | LrLambda[] } & SchedulerOptions) {
    super('MultiplicativeLR', optimizer, options);
    this._initialStep();
  }
  protected override getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch > 0) return groups.map((g, i) => g.lr * this.f(i));
    return groups.map((g) => g.lr);
  }
}
