// Piecewise and simple decays: StepLR, MultiStepLR, ExponentialLR, ConstantLR, LinearLR and
// PolynomialLR (DeepLab's "poly"). Each keeps PyTorch's chainable formula and its closed form.
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, checkInt, checkNum, checkSchedulerOptions, type SchedulerOptions } from './base.js';

const groupLrs = (s: LRScheduler): number[] => s.optimizer.paramGroups.map((g) => g.lr);

/** Multiplies the lr by `gamma` every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;
  constructor(optimizer: Optimizer<any>, options: { stepSize: number; gamma?: number } & SchedulerOptions) {
    checkSchedulerOptions('StepLR', options, ['stepSize', 'gamma', 'lastEpoch'], true);
    super('StepLR', optimizer, options?.lastEpoch);
    this.stepSize = checkInt('StepLR', 'stepSize', options.stepSize, 1);
    this.gamma = checkNum('StepLR', 'gamma', options.gamma ?? 0.1);
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
    checkSchedulerOptions('MultiStepLR', options, ['milestones', 'gamma', 'lastEpoch'], true);
    super('MultiStepLR', optimizer, options?.lastEpoch);
    if (!Array.isArray(options.milestones)) throw new TypeError(`MultiStepLR: milestones must be an array of integers, got ${String(options.milestones)}`);
    for (const [i, m] of options.milestones.entries()) {
      checkInt('MultiStepLR', `milestones[${i}]`, m, 0);
      this.milestones[m] = (this.milestones[m] ?? 0) + 1;
    }
    this.gamma = checkNum('MultiStepLR', 'gamma', options.gamma ?? 0.1);
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
    checkSchedulerOptions('ExponentialLR', options, ['gamma', 'lastEpoch'], true);
    super('ExponentialLR', optimizer, options?.lastEpoch);
    this.gamma = checkNum('ExponentialLR', 'gamma', options.gamma);
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

const factorOk = (x: number): boolean => x >= 0 && x <= 1;

/** Multiplies the lr by `factor` (default 1/3) until epoch `totalIters` (default 5). */
export class ConstantLR extends LRScheduler {
  factor: number;
  totalIters: number;
  constructor(optimizer: Optimizer<any>, options: { factor?: number; totalIters?: number } & SchedulerOptions = {}) {
    checkSchedulerOptions('ConstantLR', options, ['factor', 'totalIters', 'lastEpoch']);
    super('ConstantLR', optimizer, options?.lastEpoch);
    this.factor = checkNum('ConstantLR', 'factor', options.factor ?? 1 / 3, factorOk, 'a number in [0, 1]');
    this.totalIters = checkInt('ConstantLR', 'totalIters', options.totalIters ?? 5, 0);
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
  constructor(optimizer: Optimizer<any>, options: { startFactor?: number; endFactor?: number; totalIters?: number } & SchedulerOptions = {}) {
    checkSchedulerOptions('LinearLR', options, ['startFactor', 'endFactor', 'totalIters', 'lastEpoch']);
    super('LinearLR', optimizer, options?.lastEpoch);
    // PyTorch allows 0 here, but a zero start makes the chainable formula divide by zero.
    this.startFactor = checkNum('LinearLR', 'startFactor', options.startFactor ?? 1 / 3, (x) => x > 0 && x <= 1, 'a number in (0, 1]');
    this.endFactor = checkNum('LinearLR', 'endFactor', options.endFactor ?? 1, factorOk, 'a number in [0, 1]');
    this.totalIters = checkInt('LinearLR', 'totalIters', options.totalIters ?? 5, 1);
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
    return this.baseLrs.map((b) => b * (this.startFactor + d * Math.min(this.totalIters, this.lastEpoch) / this.totalIters));
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
    checkSchedulerOptions('PolynomialLR', options, ['totalIters', 'power', 'lastEpoch']);
    super('PolynomialLR', optimizer, options?.lastEpoch);
    this.totalIters = checkInt('PolynomialLR', 'totalIters', options.totalIters ?? 5, 1);
    this.power = checkNum('PolynomialLR', 'power', options.power ?? 1);
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
