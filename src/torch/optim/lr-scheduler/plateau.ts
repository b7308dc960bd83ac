// ReduceLROnPlateau: multiplies the lr by `factor` when a metric stops improving for more than
// `patience` epochs. A port of PyTorch 1.13's, which is not an epoch-based scheduler (it does not
// derive from _LRScheduler, so it cannot go into SequentialLR); step(metric) after validating.
import { checkChoice, checkNumber, invalidParameterError, readOptions } from '../../../validate.js';
import type { Optimizer } from '../optimizer.js';
import { Tensor } from '../../tensor.js';
import { checkOptimizer, checkStateDict, perGroup, type SchedulerStateDict } from './base.js';

export interface ReduceLROnPlateauOptions {
  /** 'min' (default): reduce when the metric stops decreasing; 'max': when it stops increasing. */
  mode?: 'min' | 'max';
  /** new lr = lr * factor (default 0.1; must be < 1). */
  factor?: number;
  /** Epochs without improvement to ignore before reducing (default 10). */
  patience?: number;
  /** How much better counts as better (default 1e-4), relative or absolute by thresholdMode. */
  threshold?: number;
  /** 'rel' (default): better than best * (1 -+ threshold); 'abs': than best -+ threshold. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again (default 0). */
  cooldown?: number;
  /** A lower bound on the lr: one for all groups or one per group (default 0). */
  minLr?: number | number[];
  /** A reduction smaller than eps is skipped (default 1e-8). */
  eps?: number;
}

const NAME = 'ReduceLROnPlateau';
const OPTION_KEYS = ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'];

/** JS field -> PyTorch's attribute name in the state dict. */
const FIELDS: [string, string][] = [
  ['factor', 'factor'],
  ['minLrs', 'min_lrs'],
  ['patience', 'patience'],
  ['cooldown', 'cooldown'],
  ['cooldownCounter', 'cooldown_counter'],
  ['mode', 'mode'],
  ['threshold', 'threshold'],
  ['thresholdMode', 'threshold_mode'],
  ['best', 'best'],
  ['numBadEpochs', 'num_bad_epochs'],
  ['modeWorse', 'mode_worse'],
  ['eps', 'eps'],
  ['lastEpoch', 'last_epoch'],
  ['lastLr', '_last_lr'],
];

const MODES = ['min', 'max'] as const;
const THRESHOLD_MODES = ['rel', 'abs'] as const;

export class ReduceLROnPlateau {
  readonly name = NAME;
  readonly optimizer: Optimizer<any>;
  factor: number;
  minLrs: number[];
  patience: number;
  cooldown: number;
  cooldownCounter = 0;
  mode: 'min' | 'max';
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  /** The best metric so far (+-Infinity before the first step). */
  best: number;
  numBadEpochs = 0;
  modeWorse: number;
  eps: number;
  lastEpoch = 0;
  protected lastLr: number[];

  constructor(optimizer: Optimizer<any>, options: ReduceLROnPlateauOptions = {}) {
    const o = readOptions(NAME, options, OPTION_KEYS);
    this.optimizer = checkOptimizer(NAME, optimizer);
    this.factor = o.number('factor', 0.1, { max: 1, exclusive: 'max' });
    this.minLrs = perGroup(NAME, 'minLr', optimizer, o.get('minLr') ?? 0);
    this.patience = o.int('patience', 10, { min: 0 });
    this.cooldown = o.int('cooldown', 0, { min: 0 });
    this.threshold = o.number('threshold', 1e-4);
    this.eps = o.number('eps', 1e-8);
    this.mode = o.choice('mode', MODES, 'min');
    this.thresholdMode = o.choice('thresholdMode', THRESHOLD_MODES, 'rel');
    this.modeWorse = this.mode === 'min' ? Infinity : -Infinity;
    this.best = this.modeWorse;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  /** True while counting down the epochs after a reduction. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /** Whether `a` beats `best` by the threshold. */
  isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /**
   * Records this epoch's metric (a number or a one-element Tensor) and reduces the lrs when it
   * has not improved for more than `patience` epochs. `epoch` (deprecated in PyTorch) sets the epoch.
   */
  step(metric: number | Tensor, epoch?: number): void {
    let current: number;
    if (metric instanceof Tensor) {
      if (metric.numel !== 1)
        throw new RangeError(`${NAME}.step: metric must be a number or a one-element Tensor, got a Tensor of ${metric.numel} elements`);
      current = metric.item();
    } else if (typeof metric === 'number') {
      current = metric;
    } else {
      throw invalidParameterError(`${NAME}.step`, 'metric', 'a number or a one-element Tensor', metric);
    }
    this.lastEpoch = epoch === undefined ? this.lastEpoch + 1 : checkNumber(`${NAME}.step`, 'epoch', epoch);
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const oldLr = g.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]!);
      if (oldLr - newLr > this.eps) g.lr = newLr;
    });
  }

  /** The groups' lrs after the last step (before any step: their lrs at construction). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** The state under PyTorch's attribute names; best and mode_worse may be +-Infinity. */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {};
    const self = this as unknown as Record<string, unknown>;
    for (const [js, py] of FIELDS) out[py] = structuredClone(self[js]);
    return out;
  }

  /**
   * Restores a state dict (missing keys keep their values). `best` and `mode_worse` may also be
   * null or "Infinity"/"-Infinity" (what a plain JSON round trip of infinities gives): mode_worse
   * is derived from the mode again, as PyTorch does, and a null best becomes mode_worse.
   */
  loadStateDict(sd: SchedulerStateDict): void {
    const where = `${NAME}.loadStateDict`;
    checkStateDict(where, sd, this.optimizer, ['min_lrs', '_last_lr']);
    const n = this.optimizer.paramGroups.length;
    if (sd.mode !== undefined) checkChoice(where, 'mode', sd.mode, MODES);
    if (sd.threshold_mode !== undefined) checkChoice(where, 'threshold_mode', sd.threshold_mode, THRESHOLD_MODES);
    const self = this as unknown as Record<string, unknown>;
    for (const [js, py] of FIELDS) if (py in sd && py !== 'best' && py !== 'mode_worse') self[js] = structuredClone(sd[py]);
    this.modeWorse = this.mode === 'min' ? Infinity : -Infinity;
    if ('best' in sd) {
      const b = sd.best;
      if (b === null) this.best = this.modeWorse;
      else if (b === 'Infinity' || b === '-Infinity') this.best = b === 'Infinity' ? Infinity : -Infinity;
      else this.best = checkNumber(where, 'best', b);
    }
    if (this.lastLr.length === n)
      this.optimizer.paramGroups.forEach((g, i) => {
        g.lr = this.lastLr[i]!;
      });
  }
}
