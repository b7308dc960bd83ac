// Piecewise and simple decays: StepLR, MultiStepLR, ExponentialLR, ConstantLR, LinearLR and
// PolynomialLR (DeepLab's "poly"). Each keeps PyTorch's chainable formula and its closed form.
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, schedulerOptions, type SchedulerOptions } from './base.js';

const groupLrs = (s: LRScheduler): number[] => s.optimizer.paramGroups.map((g) => g.lr);

/** Multiplies the lr by `gamma` every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;
  constructor(optimizer: Optimizer<any>, options: { stepSize: number; gamma?: number } & SchedulerOptions) {
    const o = schedulerOptions('StepLR', options, ['stepSize', 'gamma', 'lastEpoch'], true);
    super('StepLR', optimizer, o.get('lastEpoch') as number | undefined);
    this.stepSize = o.int('stepSize');
    this.gamma = o.number('gamma', 0.1);
    this._initialStep();
  }
  protected override getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groupLrs(this);
    return groupLrs(this).map((lr) => lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
  protected override stateFields(): [string, string][] {
    return [['stepSize', 'step_size'], ['gamma', 'gamma'], ...super.stateFields()];
  }
}

/** Multiplies the lr by `gamma` at each milestone (a milestone listed twice applies twice). */
export class MultiStepLR extends LRScheduler {
  /** Milestone -> how many times it was listed (PyTorch's Counter). */
  milestones: Record<string, number> = {};
  gamma: number;
  constructor(optimizer: Optimizer<any>, options: { milestones: number[]; gamma?: number } & SchedulerOptions) {
    const o = schedulerOptions('MultiStepLR', options, ['milestones', 'gamma', 'lastEpoch'], true);
    super('MultiStepLR', optimizer, o.get('lastEpoch') as number | undefined);
    for (const m of o.intList('milestones', undefined, { min: 0, nonEmpty: false })) this.milestones[m] = (this.milestones[m] ?? 0) + 1;
    this.gamma = o.number('gamma', 0.1);
    this._initialStep();
  }
  protected override getLr(): number[] {
    const count = this.milestones[this.lastEpoch];
    if (count === undefined) return groupLrs(this);
    return groupLrs(this).map((lr) => lr * this.gamma ** count);
  }
  protected override closedFormLr(): number[] {
    let passed = 0;
    for (const [m, c] of Object.entries(this.milestones)) if (Number(m) <= this.lastEpoch) passed += c;
    return this.baseLrs.map((b) => b * this.gamma ** passed);
  }
  protected override stateFields(): [string, string][] {
    return [['milestones', 'milestones'], ['gamma', 'gamma'], ...super.stateFields()];
  }
}

/** Multiplies the lr by `gamma` every epoch. */
export class ExponentialLR extends LRScheduler {
  gamma: number;
  constructor(optimizer: Optimizer<any>, options: { gamma: number } & SchedulerOptions) {
    const o = schedulerOptions('ExponentialLR', options, ['gamma', 'lastEpoch'], true);
    super('ExponentialLR', optimizer, o.get('lastEpoch') as number | undefined);
    this.gamma = o.number('gamma');
    this._initialStep();
  }
  protected override getLr(): number[] {
    if (this.lastEpoch === 0) return groupLrs(this);
    return groupLrs(this).map((lr) => lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }
  protected override stateFields(): [string, string][] {
    return [['gamma', 'gamma'], ...super.stateFields()];
  }
}

/** Multiplies the lr by `factor` (default 1/3) until epoch `totalIters` (default 5). */
export class ConstantLR extends LRScheduler {
  factor: number;
  totalIters: number;
  constructor(optimizer: Optimizer<any>, options: { factor?: number; totalIters?: number } & SchedulerOptions = {}) {
    const o = schedulerOptions('ConstantLR', options, ['factor', 'totalIters', 'lastEpoch']);
    super('ConstantLR', optimizer, o.get('lastEpoch') as number | undefined);
    this.factor = o.probability('factor', 1 / 3);
    this.totalIters = o.int('totalIters', 5, { min: 0 });
    this._initialStep();
  }
  protected override getLr(): number[] {
    if (this.lastEpoch === 0) return groupLrs(this).map((lr) => lr * this.factor);
    if (this.lastEpoch !== this.totalIters) return groupLrs(this);
    return groupLrs(this).map((lr) => lr * (1.0 / this.factor));
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * (this.factor + (this.lastEpoch >= this.totalIters ? 1 : 0) * (1 - this.factor)));
  }
  protected override stateFields(): [string, string][] {
    return [['factor', 'factor'], ['totalIters', 'total_iters'], ...super.stateFields()];
  }
}

/** Linear warm-up: the lr factor goes from `startFactor` (default 1/3) to `endFactor` (1) over `totalIters` (5). */
export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;
  constructor(
    optimizer: Optimizer<any>,
    options: { startFactor?: number; endFactor?: number; totalIters?: number } & SchedulerOptions = {},
  ) {
    const o = schedulerOptions('LinearLR', options, ['startFactor', 'endFactor', 'totalIters', 'lastEpoch']);
    super('LinearLR', optimizer, o.get('lastEpoch') as number | undefined);
    // PyTorch allows 0 here, but a zero start makes the chainable formula divide by zero.
    this.startFactor = o.number('startFactor', 1 / 3, { min: 0, max: 1, exclusive: 'min' });
    this.endFactor = o.probability('endFactor', 1);
    this.totalIters = o.int('totalIters', 5);
    this._initialStep();
  }
  protected override getLr(): number[] {
    if (this.lastEpoch === 0) return groupLrs(this).map((lr) => lr * this.startFactor);
    if (this.lastEpoch > this.totalIters) return groupLrs(this);
    const d = this.endFactor - this.startFactor;
    return groupLrs(this).map((lr) => lr * (1 + d / (this.totalIters * this.startFactor + (this.lastEpoch - 1) * d)));
  }
  protected override closedFormLr(): number[] {
    const d = this.endFactor - this.startFactor;
    return this.baseLrs.map((b) => b * (this.startFactor + (d * Math.min(this.totalIters, this.lastEpoch)) / this.totalIters));
  }
  protected override stateFields(): [string, string][] {
    return [['startFactor', 'start_factor'], ['endFactor', 'end_factor'], ['totalIters', 'total_iters'], ...super.stateFields()];
  }
}

/** Polynomial decay to 0 over `totalIters` (default 5) with `power` (default 1), DeepLab's "poly" policy. */
export class PolynomialLR extends LRScheduler {
  totalIters: number;
  power: number;
  constructor(optimizer: Optimizer<any>, options: { totalIters?: number; power?: number } & SchedulerOptions = {}) {
    const o = schedulerOptions('PolynomialLR', options, ['totalIters', 'power', 'lastEpoch']);
    super('PolynomialLR', optimizer, o.get('lastEpoch') as number | undefined);
    this.totalIters = o.int('totalIters', 5);
    this.power = o.number('power', 1);
    this._initialStep();
  }
  protected override getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch > this.totalIters) return groupLrs(this);
    const decay = ((1.0 - this.lastEpoch / this.totalIters) / (1.0 - (this.lastEpoch - 1) / this.totalIters)) ** this.power;
    return groupLrs(this).map((lr) => lr * decay);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * (1.0 - Math.min(this.totalIters, this.lastEpoch) / this.totalIters) ** this.power);
  }
  protected override stateFields(): [string, string][] {
    return [['totalIters', 'total_iters'], ['power', 'power'], ...super.stateFields()];
  }
}
